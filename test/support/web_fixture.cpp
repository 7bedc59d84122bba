#include "test/support/web_fixture.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "projections/registry.h"

namespace strato::test {

WebFixture::WebFixture() {
  projections::RunnerOptions options;
  options.database_url = db_.url();
  options.retry_wait = std::chrono::milliseconds(100);
  auto runner = projections::ProjectionRunner::Create(db_.store(), db_.NewWaiter(),
                                                      projections::AllProjections(), options);
  REQUIRE_MESSAGE(runner.ok(), runner.status().ToString());
  runner_ = std::move(*runner);
  REQUIRE(runner_->Start().ok());
  server_ = std::make_unique<http::HttpServer>(HostPort{"127.0.0.1", 0},
                                               std::vector<http::ReadinessCheck>{});
  REQUIRE(server_->Bind().ok());
  ServeConfig config;
  config.database_url = db_.url();
  config.environment = Environment::kDevelopment;
  config.relying_party.id = "localhost";
  config.relying_party.name = "Strato";
  MapEnv env{};
  auto web =
      http::WebStack::Create(config, server_->port(), db_.store(), *runner_, db_.NewWaiter(), env);
  REQUIRE_MESSAGE(web.ok(), web.status().ToString());
  web_ = std::move(*web);
  server_->SetPipeline(&web_->pipeline());
  REQUIRE(server_->Start().ok());
}

WebFixture::~WebFixture() {
  server_->Stop();
  web_.reset();
  runner_->Stop();
}

std::string WebFixture::Query(const std::string& sql, const std::vector<std::string>& params) {
  auto conn = db_.Connect();
  auto r = conn->Exec(sql, params);
  REQUIRE_MESSAGE(r.ok(), sql << ": " << r.status().ToString());
  if (r->rows() == 0 || r->IsNull(0, 0)) return "";
  return std::string(r->Get(0, 0));
}

std::string WebResponse::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::string JsonField(const std::string& json, const char* field) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  if (d.HasParseError() || !d.IsObject()) return "";
  auto it = d.FindMember(field);
  if (it == d.MemberEnd() || !it->value.IsString()) return "";
  return it->value.GetString();
}

WebClient::WebClient(WebFixture& f) : client_("127.0.0.1", f.port()) {
  client_.set_read_timeout(30, 0);
}

WebResponse WebClient::Send(const std::string& method, const std::string& path,
                            const std::string& body, httplib::Headers headers) {
  if (!cookie.empty()) headers.emplace("Cookie", cookie);
  if (send_csrf && !csrf.empty() && method != "GET") headers.emplace("X-CSRF-Token", csrf);
  httplib::Result r = method == "GET" ? client_.Get(path.c_str(), headers)
                      : method == "DELETE"
                          ? client_.Delete(path.c_str(), headers)
                          : client_.Post(path.c_str(), headers, body, "application/json");
  REQUIRE_MESSAGE(r, method << " " << path << " failed: " << httplib::to_string(r.error()));
  WebResponse out;
  out.status = r->status;
  out.body = r->body;
  for (const auto& [k, v] : r->headers) out.headers.emplace(k, v);
  std::string set = out.Header("Set-Cookie");
  if (!set.empty()) {
    std::string pair = set.substr(0, set.find(';'));
    cookie = pair == "strato_session=" ? "" : pair;
  }
  std::string token = JsonField(out.body, "csrf_token");
  if (!token.empty()) csrf = token;
  return out;
}

WebResponse WebClient::Get(const std::string& path, const httplib::Headers& headers) {
  return Send("GET", path, "", headers);
}
WebResponse WebClient::Post(const std::string& path, const std::string& body,
                            const httplib::Headers& headers) {
  return Send("POST", path, body, headers);
}
WebResponse WebClient::Delete(const std::string& path, const httplib::Headers& headers) {
  return Send("DELETE", path, "", headers);
}

namespace {

std::string UserHandleOf(const std::string& options) {
  rapidjson::Document d;
  d.Parse(options.c_str());
  REQUIRE(d.IsObject());
  REQUIRE(d.HasMember("user"));
  return d["user"]["id"].GetString();
}

}  // namespace

WebResponse WebClient::RegisterWith(SoftAuthenticator& a, const std::string& username) {
  WebResponse options = Post("/auth/register/options", R"({"username":")" + username + R"("})");
  REQUIRE_MESSAGE(options.status == 200, options.body);
  std::string credential =
      a.Register(JsonField(options.body, "challenge"), UserHandleOf(options.body));
  return Post("/auth/register/verify", R"({"credential":)" + credential + "}");
}

WebResponse WebClient::SignInWith(SoftAuthenticator& a, const std::string& username) {
  WebResponse options =
      Post("/auth/login/options",
           username.empty() ? std::string("{}") : R"({"username":")" + username + R"("})");
  REQUIRE_MESSAGE(options.status == 200, options.body);
  std::string credential = a.SignIn(JsonField(options.body, "challenge"), username.empty());
  return Post("/auth/login/verify", R"({"credential":)" + credential + "}");
}

}  // namespace strato::test
