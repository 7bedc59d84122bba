#include "http/api/openapi.h"

#include <map>

#include "http/api/api_routes.h"
#include "http/server/json_out.h"

namespace strato::http {

namespace {

bool Documented(const Route& r) {
  return r.pattern.rfind("/api/", 0) == 0 || r.pattern.rfind("/auth/", 0) == 0;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void Parameter(JsonWriter& w, std::string_view name, const char* in, bool required,
               const char* description, const char* type = "string") {
  w.StartObject();
  JsonStr(w, "name", name);
  JsonStr(w, "in", in);
  w.Key("required");
  w.Bool(required);
  if (description[0] != '\0') JsonStr(w, "description", description);
  w.Key("schema");
  w.StartObject();
  JsonStr(w, "type", type);
  w.EndObject();
  w.EndObject();
}

void ErrorResponse(JsonWriter& w, const char* status, const char* description) {
  w.Key(status);
  w.StartObject();
  JsonStr(w, "description", description);
  w.Key("content");
  w.StartObject();
  w.Key("application/json");
  w.StartObject();
  w.Key("schema");
  w.StartObject();
  JsonStr(w, "$ref", "#/components/schemas/Error");
  w.EndObject();
  w.EndObject();
  w.EndObject();
  w.EndObject();
}

}  // namespace

std::string OpenApiDocument(const Router& router) {
  std::map<std::string, std::vector<const Route*>> paths;
  for (const Route& r : router.routes()) {
    if (Documented(r)) paths[r.pattern].push_back(&r);
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  JsonStr(w, "openapi", "3.0.3");
  w.Key("info");
  w.StartObject();
  JsonStr(w, "title", "Strato API");
  JsonStr(w, "version", "1");
  JsonStr(w, "description",
          "Sign-in, organizations, members and VMs. Authenticate with the session cookie (state "
          "changes carry the session's X-CSRF-Token header) or with Authorization: Bearer and a "
          "personal API token. GET of one VM or organization answers with an ETag; its state "
          "changes take If-Match. Lists are paged with limit and cursor. Errors are "
          "{\"error\":{\"code\",\"message\",\"details\"}}.");
  w.EndObject();
  w.Key("paths");
  w.StartObject();
  for (const auto& [pattern, routes] : paths) {
    w.Key(pattern.c_str());
    w.StartObject();
    for (const Route* r : routes) {
      w.Key(Lower(r->method).c_str());
      w.StartObject();
      JsonStr(w, "summary", r->summary);
      JsonStr(w, "operationId", r->method + " " + r->pattern);
      std::vector<std::string_view> params;
      for (std::string_view seg : PathSegments(r->pattern)) {
        if (seg.size() > 2 && seg.front() == '{') params.push_back(seg.substr(1, seg.size() - 2));
      }
      const ApiRouteTraits traits = TraitsOf(r->method, r->pattern);
      w.Key("parameters");
      w.StartArray();
      for (std::string_view p : params) Parameter(w, p, "path", true, "");
      if (r->method == "POST" || r->method == "DELETE") {
        Parameter(w, "Idempotency-Key", "header", false,
                  "names the command: a retry with the same key returns the first result");
      }
      if (traits.if_match) {
        Parameter(w, "If-Match", "header", false,
                  "the ETag you read (\"4\"): when the entity has changed since, the answer is "
                  "409 and nothing is written; a malformed value is 400");
      }
      if (traits.paged) {
        Parameter(w, "limit", "query", false, "items per page, 1 to 1000 (default 100)", "integer");
        Parameter(w, "cursor", "query", false,
                  "the next_cursor of the previous page (opaque); leave out for the first page");
      }
      w.EndArray();
      JsonStr(w, "x-strato-access", r->access.Describe());
      JsonStr(w, "x-strato-credentials",
              r->access.accepts_tokens() ? "browser session or API token" : "browser session only");
      if (r->access.kind() == Access::Kind::kPermission) {
        JsonStr(w, "x-strato-permission", r->access.spec());
      }
      if (r->access.kind() == Access::Kind::kPublic) {
        w.Key("security");
        w.StartArray();
        w.EndArray();
      } else if (!r->access.accepts_tokens()) {
        // Account security: the session cookie only, never the bearer scheme.
        w.Key("security");
        w.StartArray();
        w.StartObject();
        w.Key("session");
        w.StartArray();
        w.EndArray();
        w.EndObject();
        w.EndArray();
      }
      w.Key("responses");
      w.StartObject();
      w.Key(r->method == "DELETE" ? "default" : "200");
      w.StartObject();
      JsonStr(w, "description",
              traits.paged ? "success; \"next_cursor\" is null on the last page" : "success");
      if (traits.etag) {
        w.Key("headers");
        w.StartObject();
        w.Key("ETag");
        w.StartObject();
        JsonStr(w, "description",
                "the version of the entity this body shows, for If-Match (\"4\")");
        w.Key("schema");
        w.StartObject();
        JsonStr(w, "type", "string");
        w.EndObject();
        w.EndObject();
        w.EndObject();
      }
      w.EndObject();
      ErrorResponse(w, "400", "bad input (the message names the field)");
      if (r->access.kind() != Access::Kind::kPublic) {
        ErrorResponse(w, "401", "not signed in");
      }
      if (r->access.kind() == Access::Kind::kPermission) {
        ErrorResponse(w, "403",
                      "signed in, without the permission (also for an id that does not exist)");
      }
      if (traits.if_match) {
        ErrorResponse(w, "409",
                      "the If-Match version is not the current one, or the state "
                      "forbids the change");
      }
      w.EndObject();
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndObject();
  w.Key("components");
  w.StartObject();
  w.Key("securitySchemes");
  w.StartObject();
  w.Key("session");
  w.StartObject();
  JsonStr(w, "type", "apiKey");
  JsonStr(w, "in", "cookie");
  JsonStr(w, "name", "strato_session");
  w.EndObject();
  w.Key("bearer");
  w.StartObject();
  JsonStr(w, "type", "http");
  JsonStr(w, "scheme", "bearer");
  JsonStr(w, "description", "a personal API token (strato_...) from /api/v1/account/tokens");
  w.EndObject();
  w.EndObject();
  w.Key("schemas");
  w.StartObject();
  w.Key("Error");
  w.StartObject();
  JsonStr(w, "type", "object");
  w.Key("properties");
  w.StartObject();
  w.Key("error");
  w.StartObject();
  JsonStr(w, "type", "object");
  w.Key("required");
  w.StartArray();
  w.String("code");
  w.String("message");
  w.EndArray();
  w.Key("properties");
  w.StartObject();
  for (const char* f : {"code", "message"}) {
    w.Key(f);
    w.StartObject();
    JsonStr(w, "type", "string");
    w.EndObject();
  }
  w.Key("details");
  w.StartObject();
  JsonStr(w, "type", "object");
  w.EndObject();
  w.EndObject();
  w.EndObject();
  w.EndObject();
  w.EndObject();
  w.EndObject();
  w.EndObject();
  w.Key("security");
  w.StartArray();
  for (const char* scheme : {"session", "bearer"}) {
    w.StartObject();
    w.Key(scheme);
    w.StartArray();
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return JsonText(buf);
}

void AddOpenApiRoute(Router& router, App& app) {
  Route r;
  r.method = "GET";
  r.pattern = "/api/v1/openapi.json";
  r.access = Access::Public();
  r.summary = "This document";
  // Made once the table is complete (this route included), on first request.
  const Router* table = &router;
  r.handler = [table](Request&) { return Response::Json(200, OpenApiDocument(*table)); };
  router.Add(std::move(r));
}

}  // namespace strato::http
