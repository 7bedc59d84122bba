// Router: the route table. Every route is declared with the access it needs — public, any
// signed-in user, or a permission on an entity found from the path ("vm:{id}#stop") — and the
// credentials it accepts (a browser session, or also a personal API token); the server refuses
// to start while any route is undeclared, names a permission the schema does not define, or
// lets an API token reach account security (Validate). The table is also what the OpenAPI document
// and the route-walking authorization test are built from.
//
// Build the table on one thread, then Find from any number of threads (read-only).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/server/request.h"

namespace strato::http {

class Access {
 public:
  enum class Kind { kUndeclared, kPublic, kSignedIn, kPermission };
  // The credentials a route accepts from a caller who presents one. Account security —
  // passkeys, sessions, tokens and the sign-in ceremonies — takes a browser session (with its
  // CSRF token) only: a leaked API token must never be able to add a passkey or mint a session
  // and so outlive its own revocation.
  enum class Credentials {
    kSessionOrToken,  // a browser session cookie, or `Authorization: Bearer <personal token>`
    kBrowserSession,  // a browser session cookie only; a bearer token is refused (403)
  };

  Access() = default;  // undeclared: Router::Validate refuses it
  static Access Public() { return Access(Kind::kPublic); }
  static Access SignedIn() { return Access(Kind::kSignedIn); }
  // "vm:{id}#stop": entity type vm, its id from path parameter "id", permission stop.
  // "platform:strato#operate": a fixed entity (the one platform), permission operate.
  static Access Permission(std::string_view spec);

  Kind kind() const { return kind_; }
  const std::string& entity_type() const { return entity_type_; }
  const std::string& id_param() const { return id_param_; }      // "" for a fixed entity
  const std::string& literal_id() const { return literal_id_; }  // "" when from the path
  // The entity's id for a request with these path parameters.
  std::string EntityId(const std::map<std::string, std::string>& params) const;
  const std::string& permission() const { return permission_; }
  const std::string& spec() const { return spec_; }
  std::string Describe() const;  // "public", "signed in", "vm:{id}#stop"

  // The same access, accepting a browser session only (never a bearer token).
  Access BrowserSessionOnly() const {
    Access a = *this;
    a.credentials_ = Credentials::kBrowserSession;
    return a;
  }
  Credentials credentials() const { return credentials_; }
  bool accepts_tokens() const { return credentials_ == Credentials::kSessionOrToken; }

 private:
  explicit Access(Kind k) : kind_(k) {}
  Kind kind_ = Kind::kUndeclared;
  Credentials credentials_ = Credentials::kSessionOrToken;
  std::string entity_type_, id_param_, literal_id_, permission_, spec_;
  std::string parse_error_;
  friend class Router;
};

using Handler = std::function<Response(Request&)>;

struct Route {
  std::string method;   // "GET", "POST", ...
  std::string pattern;  // "/api/v1/vms/{id}": literal segments and {name} parameters
  Access access;
  Handler handler;
  std::string summary;        // one line, for the OpenAPI document
  bool rate_limited = false;  // per client address (ceremony starts)
};

class Router {
 public:
  void Add(Route route);

  // Every reason the table cannot be served, as one sentence per route, or Ok. `permission_exists`
  // answers whether the schema defines permission P on entity type T (null: not checked).
  Status Validate(const std::function<bool(std::string_view type, std::string_view permission)>&
                      permission_exists) const;

  struct Match {
    const Route* route = nullptr;  // null: nothing matched
    bool other_method = false;     // the path exists with other methods
    std::map<std::string, std::string> params;
  };
  Match Find(std::string_view method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// True for the paths of account security (sign-in ceremonies, passkeys, sessions, tokens), which
// Validate requires to accept a browser session only.
bool IsAccountSecurityPath(std::string_view pattern);

// Splits "/a/{b}/c" into segments; empty segments are kept so "/a//b" never matches "/a/b".
std::vector<std::string_view> PathSegments(std::string_view path);

}  // namespace strato::http
