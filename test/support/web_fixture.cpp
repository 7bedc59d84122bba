#include "test/support/web_fixture.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "core/domain/host.h"
#include "core/ids.h"
#include "http/api/api_contracts.h"
#include "projections/models/registry.h"

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
  // Every documented route declares its request and answers.
  Status contracts = http::CheckRouteContracts(web_->router());
  REQUIRE_MESSAGE(contracts.ok(), contracts.ToString());
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

WebClient::WebClient(WebFixture& f) : fixture_(f), client_("127.0.0.1", f.port()) {
  client_.set_read_timeout(30, 0);
}

WebResponse WebClient::Send(const std::string& method, const std::string& path,
                            const std::string& body, httplib::Headers headers) {
  std::string cookies = cookie;
  if (!ceremony_cookie.empty()) cookies += (cookies.empty() ? "" : "; ") + ceremony_cookie;
  if (!cookies.empty()) headers.emplace("Cookie", cookies);
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
  for (auto [it, end] = out.headers.equal_range("Set-Cookie"); it != end; ++it) {
    std::string pair = it->second.substr(0, it->second.find(';'));
    if (pair.rfind("strato_session=", 0) == 0) cookie = pair == "strato_session=" ? "" : pair;
    if (pair.rfind("strato_ceremony=", 0) == 0) ceremony_cookie = pair;
  }
  std::string token = JsonField(out.body, "csrf_token");
  if (!token.empty()) csrf = token;
  CheckAgainstContract(fixture_, method, path, out);
  return out;
}

void CheckAgainstContract(WebFixture& f, const std::string& method, const std::string& path,
                          const WebResponse& response) {
  const std::string bare = path.substr(0, path.find('?'));
  http::Router::Match match = f.web().router().Find(method, bare);
  if (match.route == nullptr || !http::Documented(*match.route)) return;
  Status agrees = http::CheckAnswer(method, match.route->pattern, response.status,
                                    response.Header("Content-Type"), response.body);
  CHECK_MESSAGE(agrees.ok(), method << " " << path << ": " << agrees.message() << "\n"
                                    << response.body.substr(0, 2000));
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

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

rapidjson::Document Json(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  REQUIRE_MESSAGE(d.IsObject(), body);
  return d;
}

WebResponse Page(WebClient& c, const std::string& path) {
  return c.Get(path, {{"Accept", "text/html"}});
}

WebResponse PostForm(WebFixture& f, WebClient& c, const std::string& path,
                     std::vector<std::pair<std::string, std::string>> fields, bool with_csrf,
                     const httplib::Headers& extra_headers) {
  if (with_csrf) fields.emplace_back("csrf_token", c.csrf);
  std::string body;
  for (const auto& [k, v] : fields) {
    if (!body.empty()) body += '&';
    body += httplib::detail::encode_query_param(k) + "=" + httplib::detail::encode_query_param(v);
  }
  httplib::Client client("127.0.0.1", f.port());
  client.set_read_timeout(30, 0);
  httplib::Headers headers = {{"Accept", "text/html"}, {"Cookie", c.cookie}};
  headers.insert(extra_headers.begin(), extra_headers.end());
  auto r = client.Post(path.c_str(), headers, body, "application/x-www-form-urlencoded");
  REQUIRE_MESSAGE(r, "POST " << path << " failed: " << httplib::to_string(r.error()));
  WebResponse out;
  out.status = r->status;
  out.body = r->body;
  for (const auto& [k, v] : r->headers) out.headers.emplace(k, v);
  return out;
}

void CatchUp(WebFixture& f) {
  auto last = f.db().store().LastPosition();
  REQUIRE(last.ok());
  Status s = f.web().app().WaitForReadModels(*last);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
}

std::string CreateOrg(WebClient& c, const std::string& name) {
  WebResponse org = c.Post("/api/v1/orgs", R"({"name":")" + name + R"("})");
  REQUIRE_MESSAGE(org.status == 201, org.body);
  return JsonField(org.body, "id");
}

std::string CreateVm(WebClient& c, const std::string& org, const std::string& name, bool start) {
  WebResponse vm = c.Post("/api/v1/orgs/" + org + "/vms", R"({"name":")" + name +
                                                              R"(","image":"debian-12","start":)" +
                                                              (start ? "true" : "false") + "}");
  REQUIRE_MESSAGE(vm.status == 201, vm.body);
  return JsonField(vm.body, "id");
}

std::string RegisterHost(WebFixture& f, const std::string& name) {
  std::string id = Uuid::NewV4().ToString();
  domain::RegisterHost h;
  h.host_id = id;
  h.name = name;
  h.address = "10.0.0.5";
  h.cpu_count = 32;
  h.memory_mb = 131072;
  h.disk_gb = 2000;
  h.hypervisor_kind = "cloud-hypervisor";
  h.hypervisor_version = "38.0";
  events::CommandContext ctx;
  ctx.actor = "host-" + id;
  auto outcome = f.web().app().commands.Host(ctx, id, h);
  REQUIRE_MESSAGE(outcome.ok(), outcome.status().ToString());
  CatchUp(f);
  return id;
}

std::pair<int, std::string> Platform(WebFixture& f, const std::string& verb,
                                     const std::string& username, const std::string& role) {
  auto result = RunStrato({"platform", verb, "--username", username, "--role", role}, f.db().url());
  CatchUp(f);
  return result;
}

}  // namespace strato::test
