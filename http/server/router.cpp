#include "http/server/router.h"

#include <set>

namespace strato::http {

namespace {

bool IsName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool IsParam(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

Access Access::Permission(std::string_view spec) {
  Access a(Kind::kPermission);
  a.spec_ = std::string(spec);
  size_t colon = spec.find(':');
  size_t hash = spec.find('#');
  if (colon == std::string_view::npos || hash == std::string_view::npos || hash < colon) {
    a.parse_error_ =
        "the permission \"" + a.spec_ + "\" is not of the form type:{param}#permission";
    return a;
  }
  std::string_view type = spec.substr(0, colon);
  std::string_view param = spec.substr(colon + 1, hash - colon - 1);
  std::string_view perm = spec.substr(hash + 1);
  const bool from_path = IsParam(param) && IsName(param.substr(1, param.size() - 2));
  if (!IsName(type) || !(from_path || IsName(param)) || !IsName(perm)) {
    a.parse_error_ = "the permission \"" + a.spec_ +
                     "\" is not of the form type:{param}#permission or type:id#permission";
    return a;
  }
  a.entity_type_ = std::string(type);
  if (from_path) {
    a.id_param_ = std::string(param.substr(1, param.size() - 2));
  } else {
    a.literal_id_ = std::string(param);
  }
  a.permission_ = std::string(perm);
  return a;
}

std::string Access::EntityId(const std::map<std::string, std::string>& params) const {
  if (!literal_id_.empty()) return literal_id_;
  auto it = params.find(id_param_);
  return it == params.end() ? "" : it->second;
}

std::string Access::Describe() const {
  if (credentials_ == Credentials::kBrowserSession) {
    Access plain = *this;
    plain.credentials_ = Credentials::kSessionOrToken;
    return plain.Describe() + " (browser session only)";
  }
  switch (kind_) {
    case Kind::kUndeclared:
      return "undeclared";
    case Kind::kPublic:
      return "public";
    case Kind::kSignedIn:
      return "signed in";
    case Kind::kPermission:
      return spec_;
  }
  return "undeclared";
}

bool IsAccountSecurityPath(std::string_view pattern) {
  for (std::string_view prefix : {"/auth/", "/api/v1/account/", "/account/"}) {
    if (pattern.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

std::vector<std::string_view> PathSegments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

void Router::Add(Route route) {
  routes_.push_back(std::move(route));
}

Status Router::Validate(
    const std::function<bool(std::string_view, std::string_view)>& permission_exists) const {
  std::string problems;
  auto problem = [&](const Route& r, const std::string& why) {
    if (!problems.empty()) problems += "; ";
    problems += r.method + " " + r.pattern + ": " + why;
  };
  std::set<std::string> seen;
  for (const Route& r : routes_) {
    std::vector<std::string_view> segs = PathSegments(r.pattern);
    std::set<std::string> params;
    if (segs.empty()) problem(r, "the pattern must start with /");
    for (std::string_view s : segs) {
      if (IsParam(s)) params.insert(std::string(s.substr(1, s.size() - 2)));
    }
    // Two patterns that differ only in parameter names would shadow each other.
    std::string shape = r.method + " ";
    for (std::string_view s : segs) shape += "/" + std::string(IsParam(s) ? "{}" : s);
    if (!seen.insert(shape).second) problem(r, "another route has the same method and path");
    if (!r.handler) problem(r, "it has no handler");
    if (IsAccountSecurityPath(r.pattern) && r.access.accepts_tokens()) {
      problem(r,
              "it is account security, which must accept a browser session only "
              "(declare its access .BrowserSessionOnly())");
    }
    switch (r.access.kind()) {
      case Access::Kind::kUndeclared:
        problem(r, "it does not declare who may call it (public, signed in, or a permission)");
        break;
      case Access::Kind::kPermission:
        if (!r.access.parse_error_.empty()) {
          problem(r, r.access.parse_error_);
        } else if (r.access.literal_id_.empty() && !params.count(r.access.id_param())) {
          problem(r, "its permission takes the id from {" + r.access.id_param() +
                         "}, which is not in the path");
        } else if (permission_exists &&
                   !permission_exists(r.access.entity_type(), r.access.permission())) {
          problem(r, "the schema defines no permission " + r.access.permission() + " on entity " +
                         r.access.entity_type());
        }
        break;
      default:
        break;
    }
  }
  if (problems.empty()) return Status::Ok();
  return Status::FailedPrecondition("the route table cannot be served: " + problems);
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match best;
  std::vector<std::string_view> segs = PathSegments(path);
  int best_literals = -1;
  for (const Route& r : routes_) {
    std::vector<std::string_view> pat = PathSegments(r.pattern);
    if (pat.size() != segs.size()) continue;
    std::map<std::string, std::string> params;
    int literals = 0;
    bool ok = true;
    for (size_t i = 0; i < pat.size() && ok; ++i) {
      if (IsParam(pat[i])) {
        if (segs[i].empty()) ok = false;
        auto decoded = UrlDecode(segs[i]);
        if (!decoded) ok = false;
        if (ok) params[std::string(pat[i].substr(1, pat[i].size() - 2))] = *decoded;
      } else if (pat[i] == segs[i]) {
        ++literals;
      } else {
        ok = false;
      }
    }
    if (!ok) continue;
    if (r.method != method) {
      best.other_method = true;
      continue;
    }
    // Literal segments win over parameters: /vms/new before /vms/{id}.
    if (literals > best_literals) {
      best_literals = literals;
      best.route = &r;
      best.params = std::move(params);
    }
  }
  return best;
}

}  // namespace strato::http
