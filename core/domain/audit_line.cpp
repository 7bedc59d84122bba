#include "core/domain/audit_line.h"

#include <algorithm>
#include <cctype>

#include "core/json_writer.h"

namespace strato::domain {

namespace {

constexpr std::string_view kSecretWords[] = {"secret", "token",     "password",
                                             "key",    "challenge", "signature"};

// Appends `v` (a number or a boolean) as compact JSON.
void AppendJson(std::string& out, const rapidjson::Value& v) {
  JsonWriter w;
  if (v.IsBool()) {
    w.Bool(v.GetBool());
  } else if (v.IsDouble()) {
    w.Double(v.GetDouble());
  } else if (v.IsInt64()) {
    w.Int(v.GetInt64());
  } else {
    w.Uint(v.GetUint64());
  }
  out += w.View();
}

// A string shown bare when it is one plain word (ids, names, states), else as JSON.
bool IsPlain(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == ':' || c == '/' || c == '@';
  });
}

// At most `max` characters (UTF-8 code points) of `s`, and whether it was cut.
std::string_view Shorten(std::string_view s, size_t max, bool* cut) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (chars++ == max) {
      *cut = true;
      return s.substr(0, i);
    }
  }
  *cut = false;
  return s;
}

// Appends a value as a summary shows it: strings shortened ("…" appended when cut), bare when
// plain, else quoted as JSON; numbers and booleans as JSON.
void AppendValue(std::string& out, const rapidjson::Value& v) {
  if (!v.IsString()) {
    if (v.IsInt64()) {
      out += std::to_string(v.GetInt64());
    } else {
      AppendJson(out, v);
    }
    return;
  }
  bool cut = false;
  std::string_view shown =
      Shorten(std::string_view(v.GetString(), v.GetStringLength()), kMaxSummaryValueChars, &cut);
  if (!cut && IsPlain(shown)) {
    out += shown;
    return;
  }
  std::string s(shown);
  if (cut) s += "\u2026";  // never plain: quoted
  JsonWriter w;
  w.String(s);
  out += w.View();
}

bool IsShown(const rapidjson::Value& v) {
  return v.IsString() || v.IsNumber() || v.IsBool();
}

const rapidjson::Value* Member(const rapidjson::Value& object, std::string_view key) {
  auto it = object.FindMember(rapidjson::Value(
      rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size()))));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

}  // namespace

bool IsSecretField(std::string_view field_name) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (std::string_view word : kSecretWords) {
    auto hit = std::search(field_name.begin(), field_name.end(), word.begin(), word.end(),
                           [&](char a, char b) { return lower(a) == b; });
    if (hit != field_name.end()) return true;
  }
  return false;
}

std::string AuditSummary(std::string_view type, const rapidjson::Value& data) {
  std::string out(type);
  if (!data.IsObject()) return out;
  std::string_view chosen[kMaxSummaryFields];
  size_t count = 0;
  auto show = [&](std::string_view key, const rapidjson::Value& v) {
    if (count >= kMaxSummaryFields || !IsShown(v) || IsSecretField(key)) return;
    if (std::find(chosen, chosen + count, key) != chosen + count) return;
    chosen[count++] = key;
    out += ' ';
    out += key;
    out += '=';
    AppendValue(out, v);
  };
  for (std::string_view field : kSalientFields) {
    if (const rapidjson::Value* v = Member(data, field)) show(field, *v);
  }
  for (auto it = data.MemberBegin(); it != data.MemberEnd() && count < kMaxSummaryFields; ++it) {
    show(std::string_view(it->name.GetString(), it->name.GetStringLength()), it->value);
  }
  return out;
}

std::string AuditSummary(std::string_view type, const std::string& data) {
  JsonParser parser;
  return AuditSummary(type, parser.Parse(data));
}

}  // namespace strato::domain
