// JsonWriter: the one way the code base writes JSON (events' data, host messages, HTTP answers,
// log lines). A thin, header-only layer over RapidJSON's Writer: strings are escaped, numbers
// are written exactly, and the finished text is taken with Text(). One writer per document,
// used by one thread.
//
//   JsonWriter w;
//   w.BeginObject().Str("name", "web-1").Int("version", 3).Key("tags").BeginArray();
//   for (const auto& t : tags) w.String(t);
//   w.EndArray().EndObject();
//   std::string json = w.Text();
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strato {

class JsonWriter {
 public:
  JsonWriter() = default;
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  // Structure.
  JsonWriter& BeginObject() { return Did(w_.StartObject()); }
  JsonWriter& EndObject() { return Did(w_.EndObject()); }
  JsonWriter& BeginArray() { return Did(w_.StartArray()); }
  JsonWriter& EndArray() { return Did(w_.EndArray()); }
  JsonWriter& Key(std::string_view key) { return Did(w_.Key(key.data(), Size(key))); }

  // Values (in an array, or after Key).
  JsonWriter& String(std::string_view v) { return Did(w_.String(v.data(), Size(v))); }
  JsonWriter& Int(int64_t v) { return Did(w_.Int64(v)); }
  JsonWriter& Uint(uint64_t v) { return Did(w_.Uint64(v)); }
  JsonWriter& Double(double v) { return Did(w_.Double(v)); }
  JsonWriter& Bool(bool v) { return Did(w_.Bool(v)); }
  JsonWriter& Null() { return Did(w_.Null()); }
  // A value that is JSON text already (an event's data, say); the caller vouches it is valid.
  JsonWriter& RawValue(std::string_view json) {
    return Did(w_.RawValue(json.data(), json.size(), rapidjson::kObjectType));
  }
  // A value RapidJSON parsed (a Document or one of its Values), written compact.
  template <typename Parsed>
  JsonWriter& Copy(const Parsed& v) {
    return Did(v.Accept(w_));
  }

  // Members of an object: key and value in one call.
  JsonWriter& Str(std::string_view key, std::string_view v) { return Key(key).String(v); }
  JsonWriter& Int(std::string_view key, int64_t v) { return Key(key).Int(v); }
  JsonWriter& Uint(std::string_view key, uint64_t v) { return Key(key).Uint(v); }
  JsonWriter& Double(std::string_view key, double v) { return Key(key).Double(v); }
  JsonWriter& Bool(std::string_view key, bool v) { return Key(key).Bool(v); }
  JsonWriter& Null(std::string_view key) { return Key(key).Null(); }
  JsonWriter& Raw(std::string_view key, std::string_view json) { return Key(key).RawValue(json); }
  // A string, or null when absent.
  JsonWriter& OptStr(std::string_view key, const std::optional<std::string>& v) {
    return v ? Str(key, *v) : Null(key);
  }
  JsonWriter& OptInt(std::string_view key, const std::optional<int64_t>& v) {
    return v ? Int(key, *v) : Null(key);
  }

  // The text written so far (a whole document once the outermost value is closed).
  std::string Text() const { return std::string(buf_.GetString(), buf_.GetSize()); }
  std::string_view View() const { return std::string_view(buf_.GetString(), buf_.GetSize()); }
  // True once the outermost value is closed.
  bool Complete() const { return w_.IsComplete(); }

 private:
  static rapidjson::SizeType Size(std::string_view s) {
    return static_cast<rapidjson::SizeType>(s.size());
  }
  JsonWriter& Did(bool /*accepted*/) { return *this; }

  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_{buf_};
};

}  // namespace strato
