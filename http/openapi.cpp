#include "http/openapi.h"

#include <map>

#include "http/json_out.h"

namespace strato::http {

namespace {

bool Documented(const Route& r) {
  return r.pattern.rfind("/api/", 0) == 0 || r.pattern.rfind("/auth/", 0) == 0;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
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
          "Sign-in, organizations, members and VMs. Authenticate with the session cookie; state "
          "changes carry the session's X-CSRF-Token header. Errors are "
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
      w.Key("parameters");
      w.StartArray();
      for (std::string_view p : params) {
        w.StartObject();
        JsonStr(w, "name", p);
        JsonStr(w, "in", "path");
        w.Key("required");
        w.Bool(true);
        w.Key("schema");
        w.StartObject();
        JsonStr(w, "type", "string");
        w.EndObject();
        w.EndObject();
      }
      if (r->method == "POST" || r->method == "DELETE") {
        w.StartObject();
        JsonStr(w, "name", "Idempotency-Key");
        JsonStr(w, "in", "header");
        w.Key("required");
        w.Bool(false);
        w.Key("schema");
        w.StartObject();
        JsonStr(w, "type", "string");
        w.EndObject();
        w.EndObject();
      }
      w.EndArray();
      JsonStr(w, "x-strato-access", r->access.Describe());
      if (r->access.kind() == Access::Kind::kPermission) {
        JsonStr(w, "x-strato-permission", r->access.spec());
      }
      if (r->access.kind() == Access::Kind::kPublic) {
        w.Key("security");
        w.StartArray();
        w.EndArray();
      }
      w.Key("responses");
      w.StartObject();
      w.Key(r->method == "DELETE" ? "default" : "200");
      w.StartObject();
      JsonStr(w, "description", "success");
      w.EndObject();
      ErrorResponse(w, "400", "bad input (the message names the field)");
      if (r->access.kind() != Access::Kind::kPublic) {
        ErrorResponse(w, "401", "not signed in");
      }
      if (r->access.kind() == Access::Kind::kPermission) {
        ErrorResponse(w, "403", "signed in, without the permission");
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
  w.StartObject();
  w.Key("session");
  w.StartArray();
  w.EndArray();
  w.EndObject();
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
