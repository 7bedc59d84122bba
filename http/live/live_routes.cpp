#include "http/live/live_routes.h"

#include <chrono>
#include <memory>

#include "core/json_writer.h"
#include "core/parse.h"
#include "http/app/visibility.h"
#include "http/auth/auth_store.h"
#include "http/live/live_events.h"

namespace strato::http {

namespace {

using std::chrono::steady_clock;
constexpr std::chrono::seconds kKeepAlive{15};
constexpr std::chrono::seconds kRecheckSession{30};

// Releases the hub's client slot when the last copy of the stream function is gone (whether or
// not the server ever ran it).
struct ClientSlot {
  ClientSlot(LiveHub& h, std::string user) : hub(h), user_id(std::move(user)) {}
  ~ClientSlot() { hub.RemoveClient(user_id); }
  ClientSlot(const ClientSlot&) = delete;
  ClientSlot& operator=(const ClientSlot&) = delete;
  LiveHub& hub;
  std::string user_id;
};

std::optional<int64_t> ParsePosition(std::string_view text) {
  return ParseInt(text, 0);
}

// What the stream needs to check the caller again later: its credentials only.
Request CredentialsOf(const Request& req) {
  Request r;
  r.method = "GET";
  r.path = req.path;
  for (const char* h : {"Cookie", "Authorization"}) {
    std::string v = req.Header(h);
    if (!v.empty()) r.headers.emplace(h, v);
  }
  r.client_address = req.client_address;
  return r;
}

void Stream(App& app, const Principal& who, const Request& credentials, int64_t after,
            StreamSink& sink) {
  LiveHub& hub = *app.live;
  if (!sink.Write("retry: 3000\n\n")) return;
  int64_t position = after;
  if (position > hub.head()) {
    // A position the log has not reached (another installation's, or a rebuilt database).
    if (!sink.Write("event: reset\ndata: {}\n\n")) return;
    position = hub.head();
  }
  auto last_write = steady_clock::now();
  auto last_check = last_write;
  while (sink.Open()) {
    LiveBatch batch = hub.WaitAfter(position, std::chrono::seconds(1));
    if (batch.stopped) return;
    if (batch.gap) {
      position = hub.head();
      if (!sink.Write("id: " + std::to_string(position) + "\nevent: reset\ndata: {}\n\n")) return;
      last_write = steady_clock::now();
      continue;
    }
    std::string out;
    for (const LiveEvent& e : batch.events) {
      position = e.position;
      if (MayReadStream(app, who, e.stream_id)) out += LiveMessage(e.position, e.stream_id, e.type);
    }
    auto now = steady_clock::now();
    if (!out.empty()) {
      if (!sink.Write(out)) return;
      last_write = now;
    } else if (now - last_write >= kKeepAlive) {
      if (!sink.Write(": keep-alive\n\n")) return;
      last_write = now;
    }
    if (now - last_check >= kRecheckSession) {
      last_check = now;
      auto still = app.auth.Authenticate(credentials);
      if (!still.ok()) continue;  // the database is away: keep the stream, check again later
      if (!still->has_value() || (*still)->user_id != who.user_id) {
        (void)sink.Write("event: signed-out\ndata: {}\n\n");
        return;
      }
    }
  }
}

Response OpenStream(App& app, Request& req) {
  if (app.live == nullptr) {
    return JsonError(503, "unavailable", "Live updates are not running on this server.");
  }
  std::string resume = req.Header("Last-Event-ID");
  if (resume.empty()) resume = req.Query("after");
  int64_t after = app.live->head();
  if (!resume.empty()) {
    auto p = ParsePosition(resume);
    if (!p) {
      return JsonError(400, "invalid_argument",
                       "Last-Event-ID (or after) must be a log position: a whole number of 0 or "
                       "more, not \"" +
                           resume + "\".");
    }
    after = *p;
  }
  // Per user first: one user's tabs (or a script) cannot take every stream of the server.
  switch (app.live->AddClient(req.principal->user_id)) {
    case LiveHub::Admission::kAdmitted:
      break;
    case LiveHub::Admission::kUserFull:
      return JsonError(429, "rate_limited",
                       "You have " + std::to_string(app.live->options().max_clients_per_user) +
                           " live-update streams open already (one per tab); close a tab or "
                           "two and reload. The pages still work without live updates.")
          .With("Retry-After", "30");
    case LiveHub::Admission::kServerFull:
      return JsonError(503, "unavailable",
                       "Too many live-update streams are open on this server; the pages still "
                       "work, reload them to see changes.");
  }
  auto slot = std::make_shared<ClientSlot>(*app.live, req.principal->user_id);
  Response r;
  r.status = 200;
  r.content_type = "text/event-stream";
  r.With("Cache-Control", "no-store").With("X-Accel-Buffering", "no");
  r.stream = [slot, &app, who = *req.principal, credentials = CredentialsOf(req),
              after](StreamSink& sink) { Stream(app, who, credentials, after, sink); };
  return r;
}

}  // namespace

std::string LiveMessage(int64_t position, const std::string& stream_id, const std::string& type) {
  size_t dash = stream_id.find('-');
  std::string kind = dash == std::string::npos ? stream_id : stream_id.substr(0, dash);
  std::string id = dash == std::string::npos ? "" : stream_id.substr(dash + 1);
  JsonWriter w;
  w.BeginObject().Int("position", position).Str("stream", stream_id).Str("kind", kind);
  w.Str("id", id).Str("type", type).EndObject();
  return "id: " + std::to_string(position) + "\nevent: change\ndata: " + w.Text() + "\n\n";
}

void AddLiveRoutes(Router& router, App& app) {
  router.Add(AppRoute("GET", "/api/v1/events/stream", Access::SignedIn(),
                      "Live updates: the events you may read, as server-sent events", OpenStream,
                      app));
}

}  // namespace strato::http
