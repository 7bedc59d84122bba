#include "http/api/openapi.h"

#include <map>

#include "core/json_writer.h"
#include "http/api/api_contracts.h"

namespace strato::http {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void Parameter(JsonWriter& w, std::string_view name, const char* in, bool required,
               const char* description, const char* type = "string") {
  w.BeginObject().Str("name", name).Str("in", in).Bool("required", required);
  if (description[0] != '\0') w.Str("description", description);
  w.Key("schema").BeginObject().Str("type", type).EndObject();
  w.EndObject();
}

// {"application/json": {"schema": <shape>}}
void JsonContent(JsonWriter& w, const Shape& shape, std::map<std::string, Shape>& components) {
  w.Key("content").BeginObject().Key("application/json").BeginObject().Key("schema");
  WriteSchema(w, shape, components);
  w.EndObject().EndObject();
}

void ErrorResponse(JsonWriter& w, const char* status, const char* description,
                   std::map<std::string, Shape>& components) {
  w.Key(status).BeginObject().Str("description", description);
  JsonContent(w, ErrorShape(), components);
  w.EndObject();
}

void Operation(JsonWriter& w, const Route& r, const RouteContract* c,
               std::map<std::string, Shape>& components) {
  w.BeginObject();
  w.Str("summary", r.summary).Str("operationId", r.method + " " + r.pattern);
  std::vector<std::string_view> params;
  for (std::string_view seg : PathSegments(r.pattern)) {
    if (seg.size() > 2 && seg.front() == '{') params.push_back(seg.substr(1, seg.size() - 2));
  }
  const RouteContract none;
  const RouteContract& contract = c != nullptr ? *c : none;
  w.Key("parameters").BeginArray();
  for (std::string_view p : params) Parameter(w, p, "path", true, "");
  if (r.method == "POST" || r.method == "DELETE") {
    Parameter(w, "Idempotency-Key", "header", false,
              "names the command: a retry with the same key returns the first result");
  }
  if (contract.if_match) {
    Parameter(w, "If-Match", "header", false,
              "the ETag you read (\"4\"): when the entity has changed since, the answer is "
              "409 and nothing is written; a malformed value is 400");
  }
  for (const QueryParameter& q : contract.query) {
    w.BeginObject().Str("name", q.name).Str("in", "query").Bool("required", false);
    w.Str("description", q.description).Key("schema");
    WriteSchema(w, q.shape, components);
    w.EndObject();
  }
  if (contract.paged) {
    Parameter(w, "limit", "query", false, "items per page, 1 to 1000 (default 100)", "integer");
    Parameter(w, "cursor", "query", false,
              "the next_cursor of the previous page (opaque); leave out for the first page");
  }
  w.EndArray();
  if (contract.request) {
    w.Key("requestBody").BeginObject();
    w.Bool("required", !contract.request_optional);
    if (contract.request_optional) w.Str("description", "may be empty (taken as {})");
    JsonContent(w, *contract.request, components);
    w.EndObject();
  }
  w.Str("x-strato-access", r.access.Describe());
  w.Str("x-strato-credentials",
        r.access.accepts_tokens() ? "browser session or API token" : "browser session only");
  if (r.access.kind() == Access::Kind::kPermission) {
    w.Str("x-strato-permission", r.access.spec());
  }
  if (r.access.kind() == Access::Kind::kPublic) {
    w.Key("security").BeginArray().EndArray();
  } else if (!r.access.accepts_tokens()) {
    // Account security: the session cookie only, never the bearer scheme.
    w.Key("security").BeginArray().BeginObject().Key("session").BeginArray().EndArray();
    w.EndObject().EndArray();
  }
  w.Key("responses").BeginObject();
  for (const ApiAnswer& a : contract.answers) {
    w.Key(std::to_string(a.status)).BeginObject();
    w.Str("description", contract.paged && a.body
                             ? a.description + "; \"next_cursor\" is null on the last page"
                             : a.description);
    if (contract.etag && a.body) {
      w.Key("headers").BeginObject().Key("ETag").BeginObject();
      w.Str("description", "the version of the entity this body shows, for If-Match (\"4\")");
      w.Key("schema").BeginObject().Str("type", "string").EndObject();
      w.EndObject().EndObject();
    }
    if (a.body) {
      JsonContent(w, *a.body, components);
    } else if (contract.event_stream) {
      w.Key("content").BeginObject().Key("text/event-stream").BeginObject();
      w.Key("schema").BeginObject().Str("type", "string").EndObject();
      w.EndObject().EndObject();
    }
    w.EndObject();
  }
  ErrorResponse(w, "400", "bad input (the message names the field)", components);
  if (r.access.kind() != Access::Kind::kPublic) {
    ErrorResponse(w, "401", "not signed in", components);
  }
  if (r.access.kind() == Access::Kind::kPermission) {
    ErrorResponse(w, "403",
                  "signed in, without the permission (also for an id that does not exist)",
                  components);
  }
  if (contract.if_match) {
    ErrorResponse(w, "409",
                  "the If-Match version is not the current one, or the state forbids the change",
                  components);
  }
  ErrorResponse(w, "default", "any other error, in the same shape", components);
  w.EndObject();
  w.EndObject();
}

}  // namespace

std::string OpenApiDocument(const Router& router) {
  std::map<std::string, std::vector<const Route*>> paths;
  for (const Route& r : router.routes()) {
    if (Documented(r)) paths[r.pattern].push_back(&r);
  }
  std::map<std::string, Shape> components;
  JsonWriter w;
  w.BeginObject();
  w.Str("openapi", "3.0.3");
  w.Key("info").BeginObject();
  w.Str("title", "Strato API").Str("version", "1");
  w.Str("description",
        "Sign-in, organizations, members and VMs. Authenticate with the session cookie (state "
        "changes carry the session's X-CSRF-Token header) or with Authorization: Bearer and a "
        "personal API token. GET of one VM or organization answers with an ETag; its state "
        "changes take If-Match. Lists are paged with limit and cursor. Errors are "
        "{\"error\":{\"code\",\"message\",\"details\"}}.");
  w.EndObject();
  w.Key("paths").BeginObject();
  for (const auto& [pattern, routes] : paths) {
    w.Key(pattern).BeginObject();
    for (const Route* r : routes) {
      w.Key(Lower(r->method));
      Operation(w, *r, FindContract(r->method, r->pattern), components);
    }
    w.EndObject();
  }
  w.EndObject();
  w.Key("components").BeginObject();
  w.Key("securitySchemes").BeginObject();
  w.Key("session").BeginObject();
  w.Str("type", "apiKey").Str("in", "cookie").Str("name", "strato_session");
  w.EndObject();
  w.Key("bearer").BeginObject();
  w.Str("type", "http").Str("scheme", "bearer");
  w.Str("description", "a personal API token (strato_...) from /api/v1/account/tokens");
  w.EndObject();
  w.EndObject();
  w.Key("schemas").BeginObject();
  WriteComponents(w, components);
  w.EndObject();
  w.EndObject();
  w.Key("security").BeginArray();
  for (const char* scheme : {"session", "bearer"}) {
    w.BeginObject().Key(scheme).BeginArray().EndArray().EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Text();
}

void AddOpenApiRoute(Router& router, App& app) {
  (void)app;
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
