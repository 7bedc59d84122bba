// Small helpers for writing JSON responses with RapidJSON's Writer: a string member, and the
// finished text. Header-only; plain functions over the caller's writer (one thread).
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

namespace strato::http {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

inline void JsonStr(JsonWriter& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

inline std::string JsonText(const rapidjson::StringBuffer& buf) {
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace strato::http
