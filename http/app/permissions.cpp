#include "http/app/permissions.h"

#include "core/authz/engine.h"

namespace strato::http {

bool UserMay(const App& app, const Principal& who, std::string_view type, std::string_view id,
             std::string_view permission) {
  if (app.tuples == nullptr) return false;
  authz::CheckRequest q;
  q.entity_type = type;
  q.entity_id = id;
  q.permission = permission;
  q.subject_type = "user";
  q.subject_id = who.user_id;
  auto r = app.tuples->engine().Check(q);
  return r.ok() && *r;
}

Result<projections::EntityIds> UserEntities(const App& app, const Principal& who,
                                            std::string_view type, std::string_view permission) {
  if (app.tuples == nullptr) return Status::Unavailable("permissions are not loaded yet");
  return app.tuples->Readable(type, permission, who.user_id);
}

}  // namespace strato::http
