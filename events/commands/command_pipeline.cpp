#include "events/commands/command_pipeline.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <string_view>

namespace strato::events {

namespace {

bool ConflictIsAbout(const Status& s, const std::string& stream_id) {
  return s.code() == Code::kConflict && s.message().rfind("stream " + stream_id + " ", 0) == 0;
}

constexpr std::string_view kStalePrefix = "stream ";
constexpr std::string_view kStaleAt = " is at version ";
constexpr std::string_view kStaleExpected = "; the command expected version ";

// The whole of `text` as an int64; whether it is written as StaleVersionStatus writes it is
// checked by writing the sentence again.
std::optional<int64_t> ParseVersion(std::string_view text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

}  // namespace

Status StaleVersionStatus(const StaleVersion& stale) {
  return Status::Conflict(std::string(kStalePrefix) + stale.stream_id + std::string(kStaleAt) +
                          std::to_string(stale.actual) + std::string(kStaleExpected) +
                          std::to_string(stale.expected));
}

std::optional<StaleVersion> ParseStaleVersion(const Status& status) {
  if (status.code() != Code::kConflict) return std::nullopt;
  std::string_view m = status.message();
  if (m.substr(0, kStalePrefix.size()) != kStalePrefix) return std::nullopt;
  const size_t expected_at = m.rfind(kStaleExpected);
  if (expected_at == std::string_view::npos) return std::nullopt;
  const size_t at = m.rfind(kStaleAt, expected_at);
  if (at == std::string_view::npos || at <= kStalePrefix.size()) return std::nullopt;
  auto actual = ParseVersion(m.substr(at + kStaleAt.size(), expected_at - at - kStaleAt.size()));
  auto expected = ParseVersion(m.substr(expected_at + kStaleExpected.size()));
  if (!actual || !expected) return std::nullopt;
  StaleVersion stale;
  stale.stream_id = std::string(m.substr(kStalePrefix.size(), at - kStalePrefix.size()));
  stale.expected = *expected;
  stale.actual = *actual;
  // Only the exact sentence StaleVersionStatus writes (not one that merely contains it).
  if (StaleVersionStatus(stale).message() != m) return std::nullopt;
  return stale;
}

std::string CommandMetadata(const CommandContext& context, const Uuid& command_id, TimePoint now,
                            const std::string& host_id) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  str("actor", context.actor.empty() ? "system" : context.actor);
  str("command_id", command_id.ToString());
  str("correlation_id",
      (context.correlation_id.IsNil() ? command_id : context.correlation_id).ToString());
  if (!context.causation_id.IsNil()) str("causation_id", context.causation_id.ToString());
  if (!context.client_address.empty()) str("client_address", context.client_address);
  if (!host_id.empty()) str("host_id", host_id);
  str("issued_at", FormatRfc3339(now));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
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
