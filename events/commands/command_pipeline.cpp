#include "events/commands/command_pipeline.h"

#include <string_view>

#include "core/json_writer.h"

namespace strato::events {

namespace {

bool ConflictIsAbout(const Status& s, const std::string& stream_id) {
  return s.code() == Code::kConflict && s.message().rfind("stream " + stream_id + " ", 0) == 0;
}

}  // namespace

Status StaleVersionStatus(const StaleVersion& stale) {
  return Status::Conflict("stream " + stale.stream_id + " is at version " +
                          std::to_string(stale.actual) + "; the command expected version " +
                          std::to_string(stale.expected))
      .WithReason(std::string(kStaleVersionReason))
      .WithDetail("stream_id", stale.stream_id)
      .WithDetail("expected_version", stale.expected)
      .WithDetail("current_version", stale.actual);
}

std::optional<StaleVersion> ReadStaleVersion(const Status& status) {
  if (!status.Is(Code::kConflict, kStaleVersionReason)) return std::nullopt;
  auto stream_id = status.Detail("stream_id");
  auto expected = status.DetailInt("expected_version");
  auto actual = status.DetailInt("current_version");
  if (!stream_id || !expected || !actual) return std::nullopt;
  return StaleVersion{std::string(*stream_id), *expected, *actual};
}

std::string CommandMetadata(const CommandContext& context, const Uuid& command_id, TimePoint now,
                            const std::string& host_id) {
  JsonWriter w;
  w.BeginObject()
      .Str("actor", context.actor.empty() ? "system" : context.actor)
      .Str("command_id", command_id.ToString())
      .Str("correlation_id",
           (context.correlation_id.IsNil() ? command_id : context.correlation_id).ToString());
  if (!context.causation_id.IsNil()) w.Str("causation_id", context.causation_id.ToString());
  if (!context.client_address.empty()) w.Str("client_address", context.client_address);
  if (!host_id.empty()) w.Str("host_id", host_id);
  w.Str("issued_at", FormatRfc3339(now)).EndObject();
  return w.Text();
}

CommandPipeline::CommandPipeline(EventStore& store, PipelineOptions options)
    : store_(store),
      options_(options),
      clock_(options.clock ? *options.clock : SystemClock::Instance()) {}

Result<CommandOutcome> CommandPipeline::Execute(const std::string& stream_id,
                                                const CommandContext& context,
                                                const Decide& decide) {
  STRATO_RETURN_IF_ERROR(ValidateStreamId(stream_id));
  const Uuid command_id = context.command_id.IsNil() ? Uuid::NewV4() : context.command_id;
  Status last_conflict;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    auto history = ReadWholeStream(store_, stream_id);
    if (!history.ok()) return history.status().WithContext("loading " + stream_id);
    const int64_t version = history->empty() ? 0 : history->back().stream_version;

    // A retry of a command that already landed: its decision might now refuse (a VM that
    // exists cannot be created again), so answer from the log before deciding.
    if (!context.command_id.IsNil()) {
      CommandOutcome earlier;
      for (const auto& e : *history) {
        if (e.command_id != context.command_id) continue;
        earlier.events.push_back(e);
        earlier.position = e.position;
        earlier.stream_version = e.stream_version;
      }
      if (!earlier.events.empty()) {
        // One append's events sit at consecutive positions: the ones on other streams
        // (reservations) follow, and the caller waits for the last of them.
        auto after = store_.ReadAll(earlier.position, 100);
        if (after.ok()) {
          for (const auto& e : *after) {
            if (e.command_id != context.command_id || e.position != earlier.position + 1) break;
            earlier.position = e.position;
          }
        }
        earlier.duplicate = true;
        earlier.attempts = attempt;
        return earlier;
      }
    }

    // Checked here, on the history this attempt decides on: a concurrent append fails ours,
    // and the next attempt reads the new version and refuses.
    if (context.expected_version && *context.expected_version != version) {
      return StaleVersionStatus({stream_id, *context.expected_version, version});
    }

    auto decision = decide(*history);
    if (!decision.ok()) return decision.status();

    const std::string metadata =
        CommandMetadata(context, command_id, clock_.Now(), decision->host_id);
    AppendRequest req;
    req.command_id = command_id;
    if (!decision->events.empty()) {
      StreamAppend main{stream_id, ExpectedVersion::At(version), {}};
      for (const auto& d : decision->events) main.events.push_back({d.type, d.data, metadata});
      req.streams.push_back(std::move(main));
    }
    for (const auto& r : decision->also) {
      StreamAppend extra{r.stream_id, r.expected, {}};
      for (const auto& d : r.events) extra.events.push_back({d.type, d.data, metadata});
      req.streams.push_back(std::move(extra));
    }
    if (req.streams.empty()) {
      // Already satisfied: nothing to append. The caller may read at the stream's position.
      CommandOutcome none;
      none.position = history->empty() ? 0 : history->back().position;
      none.stream_version = version;
      none.attempts = attempt;
      return none;
    }

    auto appended = store_.Append(req);
    if (appended.ok()) {
      CommandOutcome out;
      out.position = appended->last_position;
      out.duplicate = appended->duplicate;
      out.attempts = attempt;
      out.stream_version = version;
      for (const auto& s : appended->streams) {
        if (s.stream_id == stream_id) out.stream_version = s.last_version;
      }
      if (appended->first_position > 0) {
        auto written = store_.ReadAll(
            appended->first_position - 1,
            static_cast<size_t>(appended->last_position - appended->first_position + 1));
        if (written.ok()) out.events = std::move(*written);
      }
      return out;
    }
    const Status& s = appended.status();
    for (const auto& r : decision->also) {
      if (ConflictIsAbout(s, r.stream_id)) {
        return Status::AlreadyExists(r.conflict_message.empty() ? s.message() : r.conflict_message);
      }
    }
    if (!ConflictIsAbout(s, stream_id)) return s;
    last_conflict = s;  // someone else changed the stream: decide again on what is there now
  }
  return Status::Conflict(stream_id + " kept changing while the command was decided (" +
                          std::to_string(options_.max_attempts) +
                          " attempts); try again: " + last_conflict.message());
}

}  // namespace strato::events
