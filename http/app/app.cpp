#include "http/app/app.h"

#include "events/commands/domain_commands.h"

namespace strato::http {

Status App::WaitForReadModels(int64_t position) const {
  if (position <= 0) return Status::Ok();
  STRATO_RETURN_IF_ERROR(
      projections.WaitFor(projections::kAllProjections, position, read_your_writes_timeout));
  if (tuples != nullptr) return tuples->WaitFor(position, read_your_writes_timeout);
  return Status::Ok();
}

Access CommandAccess(std::string_view command, std::string_view id_param) {
  const events::CommandSpec* spec = events::FindCommand(command);
  if (spec == nullptr) return Access();
  // "vm:{id}#start", "organization:{org}#create_vm": the placeholder becomes the route's.
  std::string_view permission = spec->permission;
  size_t open = permission.find('{');
  size_t close = permission.find('}');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return Access();
  }
  return Access::Permission(std::string(permission.substr(0, open + 1)) + std::string(id_param) +
                            std::string(permission.substr(close)));
}

Route AppRoute(std::string method, std::string pattern, Access access, std::string summary,
               std::function<Response(App&, Request&)> handler, App& app, bool rate_limited) {
  Route r;
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.access = std::move(access);
  r.summary = std::move(summary);
  r.rate_limited = rate_limited;
  r.handler = [handler = std::move(handler), &app](Request& req) {
    // Before the handler reads anything: the position its page's live stream starts after.
    if (req.principal && app.live_head) req.principal->live_after = app.live_head();
    return handler(app, req);
  };
  return r;
}

events::CommandContext ContextFor(const Request& request) {
  events::CommandContext c;
  c.actor = request.principal ? "user-" + request.principal->user_id : "system";
  c.client_address = request.client_address;
  std::string key = request.Header("Idempotency-Key");
  if (!key.empty() && request.principal) {
    // The same key from the same user names the same command: a retried request returns the
    // first result. A name-based UUID keeps keys of different users apart.
    c.command_id = Uuid::NameBased("idempotency:" + request.principal->user_id + ":" + key);
  } else {
    c.command_id = Uuid::NewV4();
  }
  return c;
}

}  // namespace strato::http
