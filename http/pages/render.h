// Pages from templates: the HTML of every page is a mustache template in ui/templates/, compiled
// into the binary (ui/ui.cmake embeds the files; nothing is read from disk at run time) and
// rendered with kainjow's mustache (libkainjow-mustache-dev, header-only).
//
// A handler parses its request, builds a View (a tree of objects, lists, strings and flags) from
// the read queries, and calls Render. What the templates may do:
//   {{x}}         the value, HTML-escaped (& < > " '): the default, and all but one tag use it
//   {{{x}}}       raw; only where a comment {{! raw: why it is safe }} stands right before it
//                 (test/http/pages/templates_test.cpp refuses any other)
//   {{> _name}}   the partial ui/templates/_name.mustache, pasted in when the templates are
//                 loaded (so rendering never parses); partials' names start with "_"
//   {{#url}}{{x}}{{/url}}  an address made whole by the view (href, src, action, hx-get, ...):
//                 kept only when it is a path on this site ("/vms?state=running") or an http(s)
//                 address, else "/" — so no view value can make a javascript: link. Addresses
//                 that start with literal text in the template ("/vms/{{id}}") need no guard.
//
// Thread-safety: Render may be called from any number of threads at once. Templates are parsed
// once into shared, immutable prototypes; each thread renders its own copy of a prototype
// (kainjow's renderer keeps an error message in the template object, so one object is never
// rendered by two threads at once).
#pragma once

#include <cstdint>
#include <kainjow/mustache.hpp>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace strato::http {

// What a template is rendered with: kainjow's data (an object, a list, a string or a flag).
using View = kainjow::mustache::data;

// An empty object, an empty list.
inline View ViewObject() {
  return View(View::type::object);
}
inline View ViewList() {
  return View(View::type::list);
}
// A flag for {{#x}} / {{^x}}.
inline View Flag(bool b) {
  return View(b);
}
// A string, or false when it is empty: {{#x}}...{{/x}} shows only when there is something.
inline View Maybe(std::string_view s) {
  return s.empty() ? View(false) : View(std::string(s));
}
inline View Text(std::string_view s) {
  return View(std::string(s));
}
inline View Number(int64_t n) {
  return View(std::to_string(n));
}

// kainjow's set() and push_back() take only const references and copy deeply (a list of rows
// is copied with every row and string in it). These move instead: `list` must be a list and
// `object` an object (both made here), so the library's own containers are reached through its
// const accessors and moved into; nothing else holds them.
inline void Append(View& list, View&& item) {
  using List = kainjow::mustache::list;
  const_cast<List&>(list.list_value()).push_back(std::move(item));
}
inline void Put(View& object, const std::string& key, View&& value) {
  object.set(key, View(false));  // a cheap placeholder, replaced by a move
  *const_cast<View*>(object.get(key)) = std::move(value);
}

// One embedded template: its name (the file name without ".mustache") and its text as written.
struct UiTemplate {
  std::string_view name;
  std::string_view text;
};

// Every template in ui/templates/, sorted by name (generated:
// build/generated/ui_templates_data.cpp).
std::span<const UiTemplate> UiTemplates();

// Renders the template `name` with `view`. An unknown name or a broken template is a
// programmer's error (the template test renders every one): it is logged and gives "".
std::string Render(std::string_view name, const View& view);

// The text of template `name` with its partials pasted in, as it is parsed; or why it cannot
// be (an unknown partial, a partial including itself, a mustache syntax error).
Result<std::string> ExpandedTemplate(std::string_view name);

// Whether an address may stand in an href (what {{#url}} keeps): a path on this site that is
// not protocol-relative ("/", "/vms?x=1", "#main"), or an http:// or https:// address.
bool SafeUrl(std::string_view url);

}  // namespace strato::http
