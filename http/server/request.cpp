#include "http/server/request.h"

#include <algorithm>
#include <cctype>

#include "core/json_writer.h"

namespace strato::http {

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) <
           std::tolower(static_cast<unsigned char>(y));
  });
}

namespace {

template <typename Map>
std::string First(const Map& m, std::string_view key) {
  auto it = m.find(std::string(key));
  return it == m.end() ? std::string() : it->second;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string Request::Header(std::string_view name) const {
  return First(headers, name);
}
std::string Request::Query(std::string_view name) const {
  return First(query, name);
}
std::string Request::Param(std::string_view name) const {
  return First(params, name);
}

std::string Request::Cookie(std::string_view name) const {
  auto [begin, end] = headers.equal_range("Cookie");
  for (auto it = begin; it != end; ++it) {
    std::string_view rest = it->second;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view pair = Trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (Trim(pair.substr(0, eq)) == name) return std::string(Trim(pair.substr(eq + 1)));
    }
  }
  return "";
}

std::string Request::FormField(std::string_view name) const {
  if (Header("Content-Type").rfind("application/x-www-form-urlencoded", 0) != 0) return "";
  std::string_view rest = body;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    size_t eq = pair.find('=');
    auto key = UrlDecode(pair.substr(0, eq));
    if (!key || *key != name) continue;
    if (eq == std::string_view::npos) return "";
    auto value = UrlDecode(pair.substr(eq + 1));
    return value ? *value : "";
  }
  return "";
}

bool Request::ChangesState() const {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

bool Request::WantsHtml() const {
  if (path.rfind("/api/", 0) == 0) return false;
  if (!Header("HX-Request").empty()) return true;
  return Header("Accept").find("text/html") != std::string::npos;
}

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::Html(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  return r;
}

Response Response::Redirect(std::string location, int status) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

Response Response::NoContent() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
    case Code::kConflict:
    case Code::kFailedPrecondition:
      return 409;
    case Code::kUnavailable:
      return 503;
    case Code::kDeadlineExceeded:
      return 504;
    case Code::kInternal:
      return 500;
  }
  return 500;
}

Response JsonError(int http_status, std::string_view code, std::string_view message,
                   std::string_view details_json) {
  JsonWriter w;
  w.BeginObject().Key("error").BeginObject().Str("code", code).Str("message", message);
  if (details_json.empty()) {
    w.Key("details").BeginObject().EndObject();
  } else {
    w.Raw("details", details_json);
  }
  w.EndObject().EndObject();
  return Response::Json(http_status, w.Text());
}

Response JsonError(const Status& status) {
  return JsonError(HttpStatusFor(status.code()), CodeName(status.code()), status.message());
}

std::optional<std::string> UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;  // "%" or "%4" at the end
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_' || c == '.' || c == '~' || c == '/';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string HtmlEscape(std::string_view s) {
  // Most values need nothing: copy runs of plain characters in one go.
  std::string out;
  out.reserve(s.size() + 16);
  auto special = [](char c) { return c == '&' || c == '<' || c == '>' || c == '"' || c == '\''; };
  size_t from = 0;
  while (true) {
    // A plain loop: find_first_of with a set calls memchr once per character.
    size_t at = from;
    while (at < s.size() && !special(s[at])) ++at;
    if (at == s.size()) {
      out.append(s.substr(from));
      return out;
    }
    out.append(s.substr(from, at - from));
    switch (s[at]) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += "&#39;";
    }
    from = at + 1;
  }
}

}  // namespace strato::http
