// Unit tests of the pages' shared HTML (http/pages/ui_html.h) and the embedded assets
// (http/pages/ui_assets.h): escaping, notices, the "next" address filter, asset addresses.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <string>

#include "http/pages/ui_assets.h"
#include "http/pages/ui_html.h"

namespace strato::http {
namespace {

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("the layout escapes the title and the user name and the CSRF token") {
  Principal p;
  p.username = "<script>alert(1)</script>";
  p.csrf_token = "tok\"en";
  Page page;
  page.title = "A & B";
  page.principal = &p;
  page.scripts = {"passkeys.js"};
  page.main_html = "<p>body</p>";
  std::string html = RenderPage(page);
  CHECK_FALSE(Contains(html, "<script>alert(1)"));
  CHECK(Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK(Contains(html, "<title>A &amp; B · Strato</title>"));
  CHECK(Contains(html, "<meta name=\"csrf-token\" content=\"tok&quot;en\">"));
  CHECK(Contains(html, "name=\"csrf_token\" value=\"tok&quot;en\""));
  CHECK(Contains(html, "action=\"/auth/logout\""));
  CHECK(Contains(html, "<p>body</p>"));
  // No inline script or style: the CSP forbids them.
  CHECK_FALSE(Contains(html, "<script>"));
  CHECK_FALSE(Contains(html, "<style"));
  CHECK_FALSE(Contains(html, "style=\""));
}

TEST_CASE("signed-in pages open the live stream after the position they were read at") {
  Principal p;
  p.username = "ada";
  p.live_after = 4711;
  Page page;
  page.title = "VMs";
  page.principal = &p;
  std::string html = RenderPage(page);
  CHECK(Contains(html, "<meta name=\"live-after\" content=\"4711\">"));
  CHECK(Contains(html, "<script src=\"" + UiAssetUrl("live.js") + "\" defer></script>"));
  // htmx comes first (deferred scripts run in order) and may not add inline styles or eval.
  size_t htmx = html.find(UiAssetUrl("htmx.min.js"));
  REQUIRE(htmx != std::string::npos);
  CHECK(htmx < html.find(UiAssetUrl("live.js")));
  CHECK(Contains(html, "\"includeIndicatorStyles\":false"));
  CHECK(Contains(html, "\"allowEval\":false"));
  CHECK(Contains(html, "id=\"live-status\""));
}

TEST_CASE("a page for a stranger has no CSRF token and links to sign-in") {
  Page page;
  page.title = "Sign in";
  page.current = "signin";
  std::string html = RenderPage(page);
  CHECK_FALSE(Contains(html, "csrf"));
  CHECK_FALSE(Contains(html, "live.js"));  // no stream without a session
  CHECK(Contains(html, "<a href=\"/signin\" aria-current=\"page\">Sign in</a>"));
}

TEST_CASE("notices say their kind in words and use the right role") {
  std::string error = NoticeHtml(NoticeKind::kError, "the <name> is taken");
  CHECK(Contains(error, "role=\"alert\""));
  CHECK(Contains(error, "<strong>Error:</strong>"));
  CHECK(Contains(error, "the &lt;name&gt; is taken"));
  std::string done = NoticeHtml(NoticeKind::kDone, "Removed.");
  CHECK(Contains(done, "role=\"status\""));
  CHECK(Contains(done, "<strong>Done:</strong>"));
  std::string empty = NoticeHtml(NoticeKind::kError, "", "ceremony-error");
  CHECK(Contains(empty, "id=\"ceremony-error\""));
  CHECK(Contains(empty, "role=\"alert\" id=\"ceremony-error\"></p>"));
}

TEST_CASE("only local paths are followed after sign-in") {
  CHECK(SafeNext("/account") == "/account");
  CHECK(SafeNext("/vms?state=running") == "/vms?state=running");
  CHECK(SafeNext("") == "/");
  CHECK(SafeNext("//evil.example/") == "/");
  CHECK(SafeNext("/\\evil.example") == "/");
  CHECK(SafeNext("https://evil.example/") == "/");
  CHECK(SafeNext("javascript:alert(1)") == "/");
  CHECK(SafeNext("/a\nb") == "/");
}

TEST_CASE("times are shown in UTC with a machine-readable datetime") {
  CHECK(TimeHtml("2026-11-27T10:31:02Z") ==
        "<time datetime=\"2026-11-27T10:31:02Z\">2026-11-27 10:31 UTC</time>");
  CHECK(TimeHtml("") == "never");
  CHECK(TimeHtml("", "<none>") == "&lt;none&gt;");
}

TEST_CASE("the assets are embedded with their content type and a versioned address") {
  const UiAsset* js = FindUiAsset("passkeys.js");
  REQUIRE(js != nullptr);
  CHECK(js->content_type == "text/javascript; charset=utf-8");
  CHECK(Contains(std::string(js->body), "navigator.credentials.create"));
  CHECK(js->sha256.size() == 64);
  const UiAsset* css = FindUiAsset("app.css");
  REQUIRE(css != nullptr);
  CHECK(css->content_type == "text/css; charset=utf-8");
  CHECK(UiAssetUrl("app.css") == "/static/app.css?v=" + std::string(css->sha256.substr(0, 12)));
  // Built from npm at build time: htmx's own file and Tailwind's output.
  const UiAsset* htmx = FindUiAsset("htmx.min.js");
  REQUIRE(htmx != nullptr);
  CHECK(htmx->content_type == "text/javascript; charset=utf-8");
  CHECK(Contains(std::string(htmx->body), "htmx"));
  const UiAsset* live = FindUiAsset("live.js");
  REQUIRE(live != nullptr);
  CHECK(Contains(std::string(live->body), "/api/v1/events/stream"));
  CHECK(FindUiAsset("../CMakeLists.txt") == nullptr);
  CHECK(UiAssetUrl("nope.js") == "/static/nope.js");
}

}  // namespace
}  // namespace strato::http
