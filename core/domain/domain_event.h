// DomainEvent: what a decision emits and what Evolve folds, before the log gives it an
// envelope (stream, position, metadata). `data` is a compact JSON object text whose fields are
// documented per type in schema/events.md. Also here: DecideContext (who decides and when) and
// the small value types, JSON and text helpers the aggregates share. Plain values and pure
// functions: no I/O, thread-safe to use from any thread.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json_writer.h"
#include "core/status.h"

namespace strato::domain {

struct DomainEvent {
  std::string type;         // CamelCase, past tense: "VmCreated"
  std::string data = "{}";  // a compact JSON object

  friend bool operator==(const DomainEvent&, const DomainEvent&) = default;
};

using Events = std::vector<DomainEvent>;

// CPU, memory and disk: what a VM asks for, what a host offers, what is placed on a host.
struct Resources {
  int64_t cpu_count = 0;
  int64_t memory_mb = 0;  // MiB
  int64_t disk_gb = 0;    // GiB

  friend bool operator==(const Resources&, const Resources&) = default;
};

// What a decision may know beyond the state and the command. Decisions never read a clock or
// make ids: time comes from here, new ids come in the command.
struct DecideContext {
  std::string actor_id;  // a user id, a host id, or "system"
  TimePoint now;
};

// Builds an event's data: a compact JSON object, keys in the order they are added. A thin
// shorthand over JsonWriter for the flat objects decisions emit (the object is opened here and
// closed by Build or Event); anything nested uses JsonWriter itself.
class JsonObjectBuilder {
 public:
  JsonObjectBuilder() { w_.BeginObject(); }

  JsonObjectBuilder& Str(std::string_view key, std::string_view value) {
    w_.Str(key, value);
    return *this;
  }
  JsonObjectBuilder& Int(std::string_view key, int64_t value) {
    w_.Int(key, value);
    return *this;
  }
  JsonObjectBuilder& Bool(std::string_view key, bool value) {
    w_.Bool(key, value);
    return *this;
  }
  // A string, or null when absent.
  JsonObjectBuilder& OptStr(std::string_view key, const std::optional<std::string>& value) {
    w_.OptStr(key, value);
    return *this;
  }
  std::string Build() {
    w_.EndObject();
    return w_.Text();
  }
  DomainEvent Event(std::string type) { return DomainEvent{std::move(type), Build()}; }

 private:
  JsonWriter w_;
};

// Reads the fields of an event's data. Accessors return a zero value when the field is missing
// or of the wrong kind and remember the first such problem; check status() after reading.
// Extra fields are ignored, so newer writers may add fields without breaking older readers.
class EventFields {
 public:
  explicit EventFields(const DomainEvent& event) : type_(event.type) {
    rapidjson::Document& doc = doc_.emplace();
    data_ = &doc;
    doc.Parse(event.data.data(), event.data.size());
    if (doc.HasParseError() || !doc.IsObject()) {
      Fail("its data is not a JSON object");
    }
  }
  EventFields(DomainEvent&&) = delete;  // the type is borrowed
  // Over data parsed already (by a JsonParser, say), borrowed: `type` and `data` must outlive
  // this. Cheap: nothing is parsed or copied.
  EventFields(std::string_view type, const rapidjson::Value& data) : type_(type), data_(&data) {
    if (!data.IsObject()) Fail("its data is not a JSON object");
  }
  EventFields(std::string&&, const rapidjson::Value&) = delete;  // both are borrowed
  EventFields(std::string_view, rapidjson::Value&&) = delete;
  EventFields(const EventFields&) = delete;
  EventFields& operator=(const EventFields&) = delete;

  std::string Str(const char* key) {
    const rapidjson::Value* v = Find(key);
    if (v == nullptr || !v->IsString()) return Missing(key, "a string"), std::string();
    return std::string(v->GetString(), v->GetStringLength());
  }
  int64_t Int(const char* key) {
    const rapidjson::Value* v = Find(key);
    if (v == nullptr || !v->IsInt64()) return Missing(key, "an integer"), 0;
    return v->GetInt64();
  }
  bool Bool(const char* key) {
    const rapidjson::Value* v = Find(key);
    if (v == nullptr || !v->IsBool()) return Missing(key, "true or false"), false;
    return v->GetBool();
  }
  // Absent or null: nullopt.
  std::optional<std::string> OptStr(const char* key) {
    const rapidjson::Value* v = Find(key);
    if (v == nullptr || v->IsNull()) return std::nullopt;
    if (!v->IsString()) return Missing(key, "a string or null"), std::nullopt;
    return std::string(v->GetString(), v->GetStringLength());
  }

  // Absent or null: nullopt (a field added to an event type later, for older events).
  std::optional<int64_t> OptInt(const char* key) {
    const rapidjson::Value* v = Find(key);
    if (v == nullptr || v->IsNull()) return std::nullopt;
    if (!v->IsInt64()) return Missing(key, "an integer or null"), std::nullopt;
    return v->GetInt64();
  }

  const Status& status() const { return status_; }

 private:
  const rapidjson::Value* Find(const char* key) {
    if (!status_.ok() || !data_->IsObject()) return nullptr;
    auto it = data_->FindMember(key);
    return it == data_->MemberEnd() ? nullptr : &it->value;
  }
  void Missing(const char* key, const char* what) {
    Fail(std::string("its field ") + key + " is missing or is not " + what);
  }
  void Fail(const std::string& why) {
    if (status_.ok()) {
      status_ = Status::Internal("event " + std::string(type_) + " cannot be read: " + why);
    }
  }

  std::string_view type_;
  std::optional<rapidjson::Document> doc_;  // none when the data was parsed already
  const rapidjson::Value* data_ = nullptr;
  Status status_;
};

// Parses one small JSON text after another into memory it keeps and reuses, so that parsing
// the log's payloads (a few KiB at most) allocates little (rapidjson still sets up its parse
// stacks each time): for folds that read every event of the log. The value Parse returns is
// valid until the next Parse.
class JsonParser {
 public:
  JsonParser() = default;
  JsonParser(const JsonParser&) = delete;
  JsonParser& operator=(const JsonParser&) = delete;

  // The parsed value; Null when `json` is not valid JSON. `json` must be followed by a NUL
  // (as a std::string's text is) and hold none: rapidjson's fastest reader looks for it.
  const rapidjson::Value& Parse(const std::string& json) {
    pool_.Clear();
    doc_.Parse(json.c_str());
    if (doc_.HasParseError()) doc_.SetNull();
    return doc_;
  }

 private:
  alignas(8) char buffer_[16 * 1024];
  rapidjson::MemoryPoolAllocator<> pool_{buffer_, sizeof buffer_};
  rapidjson::Document doc_{&pool_};
};

// The number of code points in valid UTF-8 text, or nullopt when it is not valid UTF-8.
inline std::optional<size_t> Utf8Length(std::string_view s) {
  size_t count = 0;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return std::nullopt;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    i += n;
    ++count;
  }
  return count;
}

// True when the text holds an ASCII control character (tab and newline included).
inline bool HasControlCharacter(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return true;
  }
  return false;
}

// Checks a free-text field a person types (a display name, an organization name): valid UTF-8,
// between min and max characters, no control characters, not blank, no leading or trailing
// spaces. `what` names the field in the sentence: "display name".
inline Status CheckText(std::string_view what, std::string_view value, size_t min_chars,
                        size_t max_chars) {
  std::optional<size_t> n = Utf8Length(value);
  if (!n) return Status::InvalidArgument(std::string(what) + " is not valid UTF-8");
  if (*n < min_chars || *n > max_chars) {
    return Status::InvalidArgument(std::string(what) + " must be " + std::to_string(min_chars) +
                                   " to " + std::to_string(max_chars) + " characters long; got " +
                                   std::to_string(*n));
  }
  if (HasControlCharacter(value)) {
    return Status::InvalidArgument(std::string(what) + " must not contain control characters");
  }
  if (!value.empty() && (value.front() == ' ' || value.back() == ' ')) {
    return Status::InvalidArgument(std::string(what) + " must not start or end with a space");
  }
  return Status::Ok();
}

// Checks an identifier-like field (an address, an image reference): 1 to max bytes of
// printable ASCII without spaces.
inline Status CheckToken(std::string_view what, std::string_view value, size_t max) {
  if (value.empty() || value.size() > max) {
    return Status::InvalidArgument(std::string(what) + " must be 1 to " + std::to_string(max) +
                                   " characters long");
  }
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) {
      return Status::InvalidArgument(std::string(what) +
                                     " must be printable ASCII without spaces; got \"" +
                                     std::string(value) + "\"");
    }
  }
  return Status::Ok();
}

// Checks that a number lies in [min, max]: "a VM's cpu_count must be 1 to 64; got 65".
inline Status CheckRange(std::string_view what, int64_t value, int64_t min, int64_t max) {
  if (value < min || value > max) {
    return Status::InvalidArgument(std::string(what) + " must be " + std::to_string(min) + " to " +
                                   std::to_string(max) + "; got " + std::to_string(value));
  }
  return Status::Ok();
}

template <typename List>
bool IsOneOf(std::string_view type, const List& types) {
  for (std::string_view t : types) {
    if (t == type) return true;
  }
  return false;
}

// The error Evolve returns for an event type its aggregate does not know.
inline Status UnknownEventType(std::string_view aggregate, std::string_view type) {
  return Status::Internal(std::string(aggregate) + " does not know the event type " +
                          std::string(type));
}

}  // namespace strato::domain
