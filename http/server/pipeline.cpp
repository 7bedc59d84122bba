#include "http/server/pipeline.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "core/log.h"

namespace strato::http {

RateLimiter::RateLimiter(int burst, int per_minute, const Clock& clock)
    : burst_(burst), per_second_(per_minute / 60.0), clock_(clock) {}

bool RateLimiter::Allow(const std::string& client) {
  std::lock_guard lock(mu_);
  TimePoint now = clock_.Now();
  if (buckets_.size() > 100000) buckets_.clear();  // bounded memory under address churn
  auto [it, fresh] = buckets_.try_emplace(client, Bucket{static_cast<double>(burst_), now});
  Bucket& b = it->second;
  if (!fresh) {
    double elapsed = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min<double>(burst_, b.tokens + std::max(0.0, elapsed) * per_second_);
    b.updated = now;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

Pipeline::Pipeline(const Router& router, Authenticator& authenticator, Authorizer& authorizer,
                   RateLimiter& limiter)
    : router_(router), authenticator_(authenticator), authorizer_(authorizer), limiter_(limiter) {}

std::string ErrorPageHtml(int status, std::string_view title, std::string_view sentence) {
  return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
         HtmlEscape(title) + " · Strato</title></head><body><main><h1>" + HtmlEscape(title) +
         "</h1><p role=\"alert\">" + HtmlEscape(sentence) +
         "</p><p><a href=\"/\">Back to the dashboard</a></p><p><small>HTTP " +
         std::to_string(status) + "</small></p></main></body></html>";
}

Response Pipeline::Refuse(const Request& request, const Status& why) const {
  int status = HttpStatusFor(why.code());
  if (!request.WantsHtml()) return JsonError(why);
  if (why.code() == Code::kUnauthenticated) {
    std::string next = request.path;
    if (!request.query.empty()) {
      char sep = '?';
      for (const auto& [k, v] : request.query) {
        next += sep + UrlEncode(k) + "=" + UrlEncode(v);
        sep = '&';
      }
    }
    if (request.method != "GET") next = "/";
    if (!request.Header("HX-Request").empty()) {
      // htmx follows HX-Redirect with a full navigation.
      Response r = Response::Html(401, ErrorPageHtml(401, "Sign in", why.message()));
      return r.With("HX-Redirect", "/signin?next=" + UrlEncode(next));
    }
    return Response::Redirect("/signin?next=" + UrlEncode(next));
  }
  const char* title = status == 403   ? "Not allowed"
                      : status == 404 ? "Not found"
                      : status == 429 ? "Too many attempts"
                                      : "Something went wrong";
  return Response::Html(status, ErrorPageHtml(status, title, why.message()));
}

namespace {

bool SameSecret(const std::string& a, const std::string& b) {
  return !a.empty() && a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Status CheckSameOrigin(const Request& request, const std::vector<std::string>& origins) {
  const std::string site = Lower(request.Header("Sec-Fetch-Site"));
  if (!site.empty() && site != "same-origin" && site != "none") {
    return Status::PermissionDenied("this request came from another site (Sec-Fetch-Site: " + site +
                                    "); Strato accepts changes only from its own pages, so "
                                    "open Strato itself and try again there");
  }
  const std::string origin = request.Header("Origin");
  if (origin.empty()) return Status::Ok();
  if (origin == "null") {
    return Status::PermissionDenied(
        "this request came from a page without an origin (Origin: null); Strato accepts "
        "changes only from its own pages");
  }
  if (origins.empty()) return Status::Ok();
  for (const std::string& o : origins) {
    if (o == origin) return Status::Ok();
  }
  return Status::PermissionDenied("this request came from another origin (" + origin +
                                  "); Strato accepts changes only from its own pages");
}

bool NeedsJsonContentType(const Request& request, const Route& route) {
  if (!request.ChangesState()) return false;
  // The ceremonies: public routes under /auth/ (logout is a form on every page).
  if (route.pattern.rfind("/auth/", 0) == 0 && route.access.kind() == Access::Kind::kPublic) {
    return true;
  }
  return route.pattern.rfind("/api/", 0) == 0 && !request.body.empty();
}

Response Pipeline::Handle(Request& request) {
  auto start = std::chrono::steady_clock::now();
  const Route* matched = nullptr;
  Response response = Dispatch(request, matched);
  if (metrics_ != nullptr) {
    // Patterns, never raw paths, as labels: ids would make the series unbounded.
    const std::string route = matched ? matched->pattern : "(no route)";
    metrics_->ObserveRequest(request.method, route, response.status,
                             std::chrono::steady_clock::now() - start);
  }
  return response;
}

Response Pipeline::Dispatch(Request& request, const Route*& matched) {
  Router::Match match = router_.Find(request.method, request.path);
  if (match.route == nullptr) {
    if (match.other_method) {
      return Refuse(request,
                    Status(Code::kInvalidArgument,
                           "the method " + request.method + " is not allowed on " + request.path))
          .With("X-Strato-Error", "method-not-allowed");
    }
    return Refuse(request, Status::NotFound("there is nothing at " + request.path));
  }
  const Route& route = *match.route;
  matched = &route;
  request.params = std::move(match.params);

  if (route.rate_limited && !limiter_.Allow(request.client_address)) {
    Response r = request.WantsHtml()
                     ? Response::Html(429, ErrorPageHtml(429, "Too many attempts",
                                                         "Too many sign-in attempts from your "
                                                         "address; wait a minute and try again."))
                     : JsonError(429, "rate_limited",
                                 "too many attempts from your address; wait a minute and try "
                                 "again");
    return r.With("Retry-After", "60");
  }

  // Before any authentication work: where the browser says the request comes from, and
  // whether a JSON body is declared as JSON (a cross-site form can send neither).
  if (request.ChangesState()) {
    Status same = CheckSameOrigin(request, origins_);
    if (!same.ok()) {
      log::Warn("cross-origin state change refused",
                {{"route", route.pattern}, {"client", request.client_address}});
      return Refuse(request, same);
    }
  }
  if (NeedsJsonContentType(request, route)) {
    std::string type = Lower(request.Header("Content-Type"));
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    if (type != "application/json") {
      return JsonError(415, "unsupported_media_type",
                       "send the body as JSON with Content-Type: application/json (got " +
                           (type.empty() ? std::string("none") : type) + ")");
    }
  }

  auto who = authenticator_.Authenticate(request);
  if (!who.ok()) {
    log::Warn("authentication unavailable", {{"error", who.status().message()}});
    return Refuse(request, Status::Unavailable("signing in is unavailable right now; try again "
                                               "in a moment"));
  }
  request.principal = std::move(*who);

  // Account security takes a browser session only: a token presented there is refused, not
  // ignored, so a script learns at once that it cannot go there.
  if (request.principal && !request.principal->via_cookie && !route.access.accepts_tokens()) {
    return Refuse(request, Status::PermissionDenied(
                               "an API token cannot reach account security (passkeys, sessions, "
                               "tokens, sign-in); do this from a signed-in browser"));
  }

  // A cookie is sent by the browser on its own; a state change made with one must prove it
  // comes from our pages by carrying the session's CSRF token.
  if (request.ChangesState() && request.principal && request.principal->via_cookie) {
    std::string presented = request.Header(kCsrfHeader);
    if (presented.empty()) presented = request.FormField(kCsrfField);
    if (!SameSecret(presented, request.principal->csrf_token)) {
      return Refuse(request, Status::PermissionDenied(
                                 "this request did not carry the page's security token (CSRF); "
                                 "reload the page and try again"));
    }
  }

  switch (route.access.kind()) {
    case Access::Kind::kUndeclared:
      // Validate refuses such a table; this is a second line.
      return Refuse(request, Status::Internal("this route declares no access rule"));
    case Access::Kind::kPublic:
      break;
    case Access::Kind::kSignedIn:
    case Access::Kind::kPermission:
      if (!request.principal) {
        return Refuse(request, Status::Unauthenticated("sign in to continue"));
      }
      break;
  }
  if (route.access.kind() == Access::Kind::kPermission) {
    const std::string id = route.access.EntityId(request.params);
    auto allowed = authorizer_.Check(*request.principal, route.access.entity_type(), id,
                                     route.access.permission());
    if (!allowed.ok()) return Refuse(request, allowed.status());
    if (!*allowed) {
      return Refuse(request, Status::PermissionDenied(
                                 "you may not " + route.access.permission() + " this " +
                                 route.access.entity_type() + " (" + id +
                                 "); ask its owner or an organization owner for access"));
    }
  }
  return route.handler(request);
}

}  // namespace strato::http
