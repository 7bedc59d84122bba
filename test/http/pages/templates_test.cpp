// Every embedded page template (ui/templates/, iterated from the embedded list, so a new one is
// covered without touching this file) rendered with hostile values: each name the template uses
// set to markup, quotes, an ampersand, a javascript: or protocol-relative address. Nothing may
// come out unescaped, and no address attribute may leave the site or run script. Also checks the
// templates' source: raw output only behind a comment saying why, addresses never starting with
// a bare value.
#include <doctest/doctest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "http/pages/render.h"

namespace strato::http {
namespace {

const char* const kHostile[] = {
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>",
    "' onmouseover='alert(1)",   "Tom & Jerry",
    "javascript:alert(1)",       "//evil.example/x",
    "/\\evil.example",
};

// The names a template uses, split into those it shows ({{x}}, {{{x}}}, {{&x}}), those it opens
// as sections ({{#x}}, {{^x}}) and those it shows raw.
struct Names {
  std::set<std::string> values, sections, raw;
};

Names NamesIn(const std::string& text) {
  Names n;
  static const std::regex kTag(R"(\{\{(\{|&|#|\^|/|!|>)?\s*([A-Za-z0-9_.]+)\s*\}?\}\})");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kTag); it != std::sregex_iterator();
       ++it) {
    const std::string sigil = (*it)[1], name = (*it)[2];
    if (sigil == "#" || sigil == "^") n.sections.insert(name);
    if (sigil.empty()) n.values.insert(name);
    if (sigil == "{" || sigil == "&") n.raw.insert(name);
  }
  return n;
}

// Every attribute of every tag in `html`: name and value (double-quoted; single-quoted ones are
// only the layout's fixed htmx-config).
std::vector<std::pair<std::string, std::string>> Attributes(const std::string& html) {
  std::vector<std::pair<std::string, std::string>> out;
  static const std::regex kAttr(R"(([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*"([^"]*)\")");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), kAttr);
       it != std::sregex_iterator(); ++it) {
    out.emplace_back((*it)[1], (*it)[2]);
  }
  return out;
}

bool IsAddressAttribute(const std::string& name) {
  static const std::set<std::string> kAddresses = {"href",       "src",       "action",
                                                   "formaction", "hx-get",    "hx-post",
                                                   "hx-put",     "hx-delete", "data-next"};
  return kAddresses.count(name) > 0;
}

// What an address in the page may be: a path on this site, a fragment, an http(s) address.
bool AddressIsSafe(const std::string& v) {
  if (v.rfind("https://", 0) == 0 || v.rfind("http://", 0) == 0) return true;
  if (v.rfind("#", 0) == 0) return true;
  if (v.empty() || v[0] != '/') return false;
  return v.size() == 1 || (v[1] != '/' && v[1] != '\\');
}

// The view: every shown name set to `value`; sections either all on (the same value: a
// non-empty string opens a section once) or all off (false), so both sides of {{#x}}/{{^x}}
// are rendered. Raw names get plain text (their safety is argued in their comment).
View HostileView(const Names& names, const std::string& value, bool sections_on) {
  View v(View::type::object);
  for (const std::string& name : names.values) v.set(name, value);
  for (const std::string& name : names.sections) {
    if (!sections_on)
      v.set(name, View(false));
    else if (!names.values.count(name))
      v.set(name, value);
  }
  for (const std::string& name : names.raw) v.set(name, std::string("<p>already rendered</p>"));
  return v;
}

void CheckRendered(const std::string& name, const std::string& value, const std::string& html) {
  INFO("template " << name << " with the value " << value);
  // Markup and quotes come out escaped, never as they went in.
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("' onmouseover='") == std::string::npos);
  CHECK(html.find("Tom & Jerry") == std::string::npos);
  for (const auto& [attr, v] : Attributes(html)) {
    CHECK_MESSAGE(attr.rfind("on", 0) != 0, "an event handler attribute: " << attr);
    if (!IsAddressAttribute(attr)) continue;
    INFO(attr << "=\"" << v << "\"");
    CHECK(AddressIsSafe(v));
    CHECK(v.rfind("javascript:", 0) != 0);
  }
  // Every script the page loads is an embedded asset.
  for (size_t at = html.find("<script"); at != std::string::npos;
       at = html.find("<script", at + 1)) {
    CHECK(html.compare(at, 21, "<script src=\"/static/") == 0);
  }
}

TEST_CASE("every template renders hostile values escaped and keeps addresses on the site") {
  REQUIRE(!UiTemplates().empty());
  for (const UiTemplate& t : UiTemplates()) {
    const std::string name(t.name);
    auto text = ExpandedTemplate(name);
    REQUIRE_MESSAGE(text.ok(), name << ": " << text.status().message());
    const Names names = NamesIn(*text);
    for (const char* value : kHostile) {
      for (bool sections_on : {true, false}) {
        std::string html = Render(name, HostileView(names, value, sections_on));
        CHECK_MESSAGE(!html.empty(), name << " rendered nothing");
        CheckRendered(name, value, html);
      }
    }
  }
}

TEST_CASE("raw output in a template stands only behind a comment saying why it is safe") {
  static const std::regex kRaw(R"(\{\{(\{|&))");
  for (const UiTemplate& t : UiTemplates()) {
    const std::string text(t.text);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kRaw);
         it != std::sregex_iterator(); ++it) {
      const std::string before = text.substr(0, static_cast<size_t>(it->position(0)));
      const size_t comment = before.rfind("{{! raw: ");
      INFO("template " << t.name << " at offset " << it->position(0));
      REQUIRE(comment != std::string::npos);
      // The comment closes right before the raw tag.
      CHECK(before.size() >= 2);
      CHECK(before.compare(before.size() - 2, 2, "}}") == 0);
      CHECK(before.find("}}", comment) == before.size() - 2);
    }
  }
}

TEST_CASE("addresses in templates never start with a bare value") {
  // href="{{x}}" could be javascript:; href="/vms/{{id}}" cannot, and {{#url}} checks the rest.
  static const std::regex kAddress(
      R"re((href|src|action|formaction|hx-get|hx-post|data-next)="\{\{(?!#url\}\}))re");
  for (const UiTemplate& t : UiTemplates()) {
    const std::string text(t.text);
    std::smatch m;
    INFO("template " << t.name);
    CHECK_MESSAGE(!std::regex_search(text, m, kAddress), m.str(0));
  }
}

TEST_CASE("the url guard keeps paths on this site and http(s) addresses only") {
  CHECK(SafeUrl("/"));
  CHECK(SafeUrl("/vms?state=running&amp;page=2"));
  CHECK(SafeUrl("#main"));
  CHECK(SafeUrl("https://example.com/"));
  CHECK_FALSE(SafeUrl(""));
  CHECK_FALSE(SafeUrl("javascript:alert(1)"));
  CHECK_FALSE(SafeUrl("JAVASCRIPT:alert(1)"));
  CHECK_FALSE(SafeUrl("//evil.example"));
  CHECK_FALSE(SafeUrl("/\\evil.example"));
  CHECK_FALSE(SafeUrl("/\t/evil.example"));
  CHECK_FALSE(SafeUrl("data:text/html,x"));
  View v(View::type::object);
  v.set("id", std::string("x"));
  v.set("href", std::string("javascript:alert(1)"));
  v.set("trigger", std::string("t"));
  v.set("oob", View(false));
  CHECK(Render("_live_open", v).find("hx-get=\"/\"") != std::string::npos);
}

TEST_CASE("every template loads with its partials") {
  for (const UiTemplate& t : UiTemplates()) {
    auto text = ExpandedTemplate(t.name);
    CHECK_MESSAGE(text.ok(), t.name << ": " << text.status().message());
    if (t.name.rfind("_", 0) != 0) CHECK(!Render(t.name, View(View::type::object)).empty());
  }
}

}  // namespace
}  // namespace strato::http
