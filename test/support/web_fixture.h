// WebFixture: the whole HTTP side of `strato serve` in the test process — a fresh migrated
// database, the projection runner, the web stack (routes, schema, sign-in, pipeline) and the
// listener on a free port — plus a small client that keeps one session (cookie and CSRF
// token) per WebClient, for HTTP tests of every route. Owned by the test thread.
#pragma once

#include <httplib.h>
#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "http/cli/web.h"
#include "http/server/server.h"
#include "projections/runner/runner.h"
#include "test/support/soft_authenticator.h"
#include "test/support/test_env.h"

namespace strato::test {

class WebFixture {
 public:
  WebFixture();
  ~WebFixture();

  TestDatabase& db() { return db_; }
  http::WebStack& web() { return *web_; }
  int port() const { return server_->port(); }
  std::string origin() const { return "http://localhost:" + std::to_string(port()); }
  // One value from the database (the first column of the first row; "" when no row).
  std::string Query(const std::string& sql, const std::vector<std::string>& params = {});

 private:
  TestDatabase db_;
  std::unique_ptr<projections::ProjectionRunner> runner_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::WebStack> web_;
};

struct WebResponse {
  int status = 0;
  std::string body;
  std::multimap<std::string, std::string> headers;
  std::string Header(const std::string& name) const;
};

// A browser-like client: remembers the session cookie it was given and sends the CSRF token
// with state changes once it knows it. Every answer of a documented route (/api/, /auth/) is
// checked against its route's declared contract (http/api/api_contracts.h): a body that is not
// the declared shape for its status fails the test.
class WebClient {
 public:
  explicit WebClient(WebFixture& f);
  WebResponse Get(const std::string& path, const httplib::Headers& headers = {});
  WebResponse Post(const std::string& path, const std::string& body,
                   const httplib::Headers& headers = {});
  WebResponse Delete(const std::string& path, const httplib::Headers& headers = {});

  // Registers `username` with a new passkey of `authenticator` and keeps the session.
  WebResponse RegisterWith(SoftAuthenticator& authenticator, const std::string& username);
  // Signs in (with the username, or discoverable when empty) and keeps the session.
  WebResponse SignInWith(SoftAuthenticator& authenticator, const std::string& username);

  std::string cookie;  // "strato_session=..."; empty when signed out
  // "strato_ceremony=...": ties a sign-in ceremony to this client (set by the options routes).
  std::string ceremony_cookie;
  std::string csrf;
  bool send_csrf = true;

 private:
  WebResponse Send(const std::string& method, const std::string& path, const std::string& body,
                   httplib::Headers headers);
  WebFixture& fixture_;
  httplib::Client client_;
};

// Fails the test when `response` to METHOD `path` (query string allowed) does not agree with
// the contract of the route it reached; answers of routes that are not documented pass.
void CheckAgainstContract(WebFixture& f, const std::string& method, const std::string& path,
                          const WebResponse& response);

// A string field of a JSON object text ("" when absent).
std::string JsonField(const std::string& json, const char* field);

// What the HTTP tests share.
bool Has(const std::string& text, const std::string& part);
// A JSON object answer, parsed (fails the test when it is not one).
rapidjson::Document Json(const std::string& body);
// A page as a browser asks for it (Accept: text/html).
WebResponse Page(WebClient& c, const std::string& path);
// A form posted as a browser does: urlencoded, with the session cookie and the page's CSRF
// token as the csrf_token field unless `with_csrf` is false (never as a header), with
// `extra_headers` (e.g. HX-Request, as htmx sends it).
WebResponse PostForm(WebFixture& f, WebClient& c, const std::string& path,
                     std::vector<std::pair<std::string, std::string>> fields, bool with_csrf = true,
                     const httplib::Headers& extra_headers = {});
// Waits until the read models and the authorization tuples show the whole log.
void CatchUp(WebFixture& f);
// Creates an organization (or a VM in one) through the API; returns its id.
std::string CreateOrg(WebClient& c, const std::string& name);
std::string CreateVm(WebClient& c, const std::string& org, const std::string& name,
                     bool start = false);
// Registers a host as hostd does (the Host aggregate's command, as the host itself).
std::string RegisterHost(WebFixture& f, const std::string& name);
// `strato platform <verb> --username NAME --role ROLE` against the fixture's database, then
// CatchUp: {exit code, output}.
std::pair<int, std::string> Platform(WebFixture& f, const std::string& verb,
                                     const std::string& username, const std::string& role);

}  // namespace strato::test
