#include "http/pages/render.h"

#include <map>
#include <memory>
#include <regex>
#include <unordered_map>

#include "core/log.h"
#include "http/server/request.h"

namespace strato::http {

namespace {

using Mustache = kainjow::mustache::mustache;

// Partials are pasted in this deep at most (a partial including itself stops the load).
constexpr int kMaxPartialDepth = 8;

// A file's one final newline is not part of the template (so files end as text files do, and a
// partial pasted mid-line adds no line break).
std::string_view WithoutFinalNewline(std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  return text;
}

const UiTemplate* FindTemplate(std::string_view name) {
  for (const UiTemplate& t : UiTemplates()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Result<std::string> Expand(std::string_view name, int depth) {
  if (depth > kMaxPartialDepth) {
    return Status::Internal("template partials nest deeper than " +
                            std::to_string(kMaxPartialDepth) + " at " + std::string(name));
  }
  const UiTemplate* t = FindTemplate(name);
  if (t == nullptr) return Status::NotFound("there is no template " + std::string(name));
  static const std::regex kPartial(R"(\{\{>\s*([A-Za-z0-9_]+)\s*\}\})");
  const std::string text(WithoutFinalNewline(t->text));
  std::string out;
  auto begin = std::sregex_iterator(text.begin(), text.end(), kPartial);
  size_t from = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    out.append(text, from, static_cast<size_t>(m.position(0)) - from);
    auto inner = Expand(m.str(1), depth + 1);
    if (!inner.ok()) {
      return inner.status().WithContext("in template " + std::string(name));
    }
    out += *inner;
    from = static_cast<size_t>(m.position(0) + m.length(0));
  }
  out.append(text, from, std::string::npos);
  return out;
}

struct Prototype {
  std::unique_ptr<Mustache> parsed;  // null when the template could not be loaded
  std::string error;
};

// Every template, parsed once (on first use; C++ makes that thread-safe).
const std::map<std::string, Prototype, std::less<>>& Prototypes() {
  static const auto* all = [] {
    auto* m = new std::map<std::string, Prototype, std::less<>>();
    for (const UiTemplate& t : UiTemplates()) {
      Prototype p;
      auto text = Expand(t.name, 0);
      if (!text.ok()) {
        p.error = text.status().message();
      } else {
        p.parsed = std::make_unique<Mustache>(*text);
        if (!p.parsed->is_valid()) {
          p.error = "template " + std::string(t.name) + ": " + p.parsed->error_message();
          p.parsed.reset();
        } else {
          p.parsed->set_custom_escape([](const std::string& s) { return HtmlEscape(s); });
        }
      }
      m->emplace(std::string(t.name), std::move(p));
    }
    return m;
  }();
  return *all;
}

// What every template may use, looked up before the view's own names: {{#url}}...{{/url}}.
const View& Builtins() {
  static const View* builtins = [] {
    auto* b = new View(View::type::object);
    b->set("url", View(kainjow::mustache::lambda2(
                      [](const std::string& text, const kainjow::mustache::renderer& render) {
                        std::string url = render(text, false);  // its tags escape themselves
                        return SafeUrl(url) ? url : std::string("/");
                      })));
    return b;
  }();
  return *builtins;
}

// kainjow writes to anything with operator<<.
struct Sink {
  std::string* out;
  Sink& operator<<(const std::string& s) {
    out->append(s);
    return *this;
  }
};

}  // namespace

std::string Render(std::string_view name, const View& view) {
  const auto& prototypes = Prototypes();
  auto it = prototypes.find(name);
  if (it == prototypes.end() || it->second.parsed == nullptr) {
    log::Error("a page template cannot be rendered",
               {{"template", std::string(name)},
                {"error", it == prototypes.end() ? "no such template" : it->second.error}});
    return "";
  }
  // This thread's copy of the prototype (see the header on thread-safety).
  thread_local std::unordered_map<const Prototype*, std::unique_ptr<Mustache>> copies;
  std::unique_ptr<Mustache>& mine = copies[&it->second];
  if (mine == nullptr) mine = std::make_unique<Mustache>(*it->second.parsed);

  kainjow::mustache::context<std::string> context(&view);
  context.push(&Builtins());  // searched first: a view cannot replace {{#url}}
  std::string out;
  Sink sink{&out};
  mine->render(context, sink);
  if (!mine->is_valid()) {
    log::Error("a page template failed to render",
               {{"template", std::string(name)}, {"error", mine->error_message()}});
    mine.reset();  // the copy keeps its error: take a fresh one next time
    return "";
  }
  return out;
}

Result<std::string> ExpandedTemplate(std::string_view name) {
  auto text = Expand(name, 0);
  if (!text.ok()) return text.status();
  Mustache parsed(*text);
  if (!parsed.is_valid()) {
    return Status::InvalidArgument("template " + std::string(name) + ": " + parsed.error_message());
  }
  return text;
}

bool SafeUrl(std::string_view url) {
  // Browsers drop tabs and line breaks from addresses ("/\t/host" is "//host"): none at all.
  for (char c : url) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) return url.size() > 8;
  if (url.empty()) return false;
  if (url[0] == '#') return true;
  if (url[0] != '/') return false;
  // "//host" and "/\host" leave the site.
  return url.size() == 1 || (url[1] != '/' && url[1] != '\\');
}

}  // namespace strato::http
