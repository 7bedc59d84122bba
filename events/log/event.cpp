#include "events/log/event.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstring>

#include "core/json_writer.h"

namespace strato::events {
namespace {

bool IsLower(char c) {
  return c >= 'a' && c <= 'z';
}
bool IsUpper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// Characters allowed in a stream id's id part: they must be safe as one NATS subject token.
bool IsIdChar(char c) {
  return IsLower(c) || IsUpper(c) || IsDigit(c) || c == '-' || c == '_';
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// Shows a possibly hostile string in an error message: printable ASCII kept, the rest escaped,
// and cut to a readable length.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  size_t shown = 0;
  for (unsigned char c : s) {
    if (shown++ == 60) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  out += "\"";
  return out;
}

}  // namespace

std::string ExpectedVersion::ToString() const {
  switch (kind) {
    case Kind::kAny:
      return "any version";
    case Kind::kNoStream:
      return "no stream";
    case Kind::kExact:
      return "version " + std::to_string(version);
  }
  return "?";
}

std::string_view RecordedEvent::Category() const {
  std::string_view s = stream_id;
  return s.substr(0, s.find('-'));
}

Status ValidateStreamId(std::string_view id) {
  if (id.empty()) return Status::InvalidArgument("the stream id is empty");
  if (!ValidUtf8(id))
    return Status::InvalidArgument("the stream id " + Quote(id) + " is not valid UTF-8");
  if (id.size() > kMaxStreamIdBytes) {
    return Status::InvalidArgument("the stream id " + Quote(id) + " is " +
                                   std::to_string(id.size()) + " bytes long; the limit is " +
                                   std::to_string(kMaxStreamIdBytes));
  }
  size_t dash = id.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == id.size()) {
    return Status::InvalidArgument("the stream id " + Quote(id) +
                                   " must look like <category>-<id>, for example vm-7d1f");
  }
  for (size_t i = 0; i < dash; ++i) {
    if (!IsLower(id[i])) {
      return Status::InvalidArgument("the stream id " + Quote(id) +
                                     " has a category that is not lowercase letters a-z");
    }
  }
  for (size_t i = dash + 1; i < id.size(); ++i) {
    if (!IsIdChar(id[i])) {
      return Status::InvalidArgument(
          "the stream id " + Quote(id) +
          " may only use letters, digits, '-' and '_' after the category");
    }
  }
  return Status::Ok();
}

Status ValidateEventType(std::string_view type) {
  if (type.empty()) return Status::InvalidArgument("the event type is empty");
  if (!ValidUtf8(type)) {
    return Status::InvalidArgument("the event type " + Quote(type) + " is not valid UTF-8");
  }
  if (type.size() > kMaxEventTypeBytes) {
    return Status::InvalidArgument("the event type " + Quote(type) + " is " +
                                   std::to_string(type.size()) + " bytes long; the limit is " +
                                   std::to_string(kMaxEventTypeBytes));
  }
  if (!IsUpper(type[0])) {
    return Status::InvalidArgument("the event type " + Quote(type) +
                                   " must start with a capital letter (like VmCreated)");
  }
  for (char c : type) {
    if (!IsUpper(c) && !IsLower(c) && !IsDigit(c)) {
      return Status::InvalidArgument("the event type " + Quote(type) +
                                     " may only use letters and digits (like VmCreated)");
    }
  }
  return Status::Ok();
}

Status ValidateJsonObject(std::string_view json, std::string_view what) {
  if (json.size() > kMaxPayloadBytes) {
    return Status::InvalidArgument(std::string(what) + " is " + std::to_string(json.size()) +
                                   " bytes; the limit is " + std::to_string(kMaxPayloadBytes));
  }
  if (!ValidUtf8(json)) return Status::InvalidArgument(std::string(what) + " is not valid UTF-8");
  if (json.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument(std::string(what) + " contains a NUL byte");
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    return Status::InvalidArgument(std::string(what) + " is not valid JSON: " +
                                   rapidjson::GetParseError_En(doc.GetParseError()) + " at byte " +
                                   std::to_string(doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return Status::InvalidArgument(std::string(what) + " must be a JSON object");
  // PostgreSQL's jsonb rejects the \u0000 escape; refuse it here with a clear sentence.
  if (json.find("\\u0000") != std::string_view::npos) {
    return Status::InvalidArgument(std::string(what) +
                                   " contains the escape \\u0000, which the log cannot store");
  }
  return Status::Ok();
}

Status ValidateAppendRequest(const AppendRequest& req) {
  if (req.streams.empty()) return Status::InvalidArgument("the append names no stream");
  size_t total = 0;
  for (size_t s = 0; s < req.streams.size(); ++s) {
    const StreamAppend& sa = req.streams[s];
    STRATO_RETURN_IF_ERROR(ValidateStreamId(sa.stream_id));
    for (size_t k = 0; k < s; ++k) {
      if (req.streams[k].stream_id == sa.stream_id) {
        return Status::InvalidArgument("the append names stream " + sa.stream_id + " twice");
      }
    }
    if (sa.expected.kind == ExpectedVersion::Kind::kExact && sa.expected.version < 1) {
      return Status::InvalidArgument("the expected version for stream " + sa.stream_id +
                                     " must be at least 1 (use \"no stream\" for a new stream)");
    }
    total += sa.events.size();
    for (size_t i = 0; i < sa.events.size(); ++i) {
      const NewEvent& e = sa.events[i];
      std::string where = "event " + std::to_string(i + 1) + " of stream " + sa.stream_id;
      STRATO_RETURN_IF_ERROR(ValidateEventType(e.type).WithContext(where));
      STRATO_RETURN_IF_ERROR(ValidateJsonObject(e.data, "its data").WithContext(where));
      STRATO_RETURN_IF_ERROR(ValidateJsonObject(e.metadata, "its metadata").WithContext(where));
    }
  }
  if (total > kMaxEventsPerAppend) {
    return Status::InvalidArgument("the append has " + std::to_string(total) +
                                   " events; the limit is " + std::to_string(kMaxEventsPerAppend));
  }
  return Status::Ok();
}

std::string SubjectFor(const RecordedEvent& e) {
  std::string_view category = e.Category();
  std::string_view id = std::string_view(e.stream_id).substr(category.size() + 1);
  std::string subject = "strato.events.";
  subject += category;
  subject += '.';
  if (category == "vm") {
    std::string host = "unassigned";
    rapidjson::Document meta;
    meta.Parse(e.metadata.data(), e.metadata.size());
    if (!meta.HasParseError() && meta.IsObject()) {
      auto it = meta.FindMember("host_id");
      if (it != meta.MemberEnd() && it->value.IsString()) {
        std::string_view h(it->value.GetString(), it->value.GetStringLength());
        bool ok = !h.empty();
        for (char c : h) ok = ok && IsIdChar(c);
        if (ok) host = std::string(h);
      }
    }
    subject += host;
    subject += '.';
  }
  subject += id;
  subject += '.';
  subject += e.type;
  return subject;
}

std::string HexEncode(const uint8_t* data, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kHex[data[i] >> 4]);
    s.push_back(kHex[data[i] & 0xF]);
  }
  return s;
}

Result<Hash> HashFromHex(std::string_view hex) {
  Hash h{};
  if (hex.size() != 64) return Status::InvalidArgument("a hash must be 64 hex digits");
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = val(hex[2 * i]), lo = val(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("a hash must be 64 hex digits");
    h[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return h;
}

std::string ToJsonLine(const RecordedEvent& e) {
  JsonWriter w;
  w.BeginObject()
      .Int("position", e.position)
      .Str("stream_id", e.stream_id)
      .Int("stream_version", e.stream_version)
      .Str("event_id", e.event_id.ToString())
      .Str("type", e.type)
      .Raw("data", e.data)
      .Raw("metadata", e.metadata)
      .Str("recorded_at", FormatRfc3339(e.recorded_at))
      .Int("recorded_at_us", UnixMicros(e.recorded_at))
      .Str("hash", HexEncode(e.hash.data(), e.hash.size()))
      .EndObject();
  return w.Text();
}

Result<RecordedEvent> FromJsonLine(std::string_view line) {
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status::InvalidArgument("an event line is not a JSON object");
  }
  auto missing = [](const char* f) {
    return Status::InvalidArgument(std::string("an event line lacks a valid \"") + f + "\"");
  };
  RecordedEvent e;
  auto get = [&](const char* f) -> const rapidjson::Value* {
    auto it = doc.FindMember(f);
    return it == doc.MemberEnd() ? nullptr : &it->value;
  };
  auto compact = [](const rapidjson::Value& v) {
    JsonWriter w;
    w.Copy(v);
    return w.Text();
  };
  const rapidjson::Value* v;
  if (!(v = get("position")) || !v->IsInt64()) return missing("position");
  e.position = v->GetInt64();
  if (!(v = get("stream_id")) || !v->IsString()) return missing("stream_id");
  e.stream_id.assign(v->GetString(), v->GetStringLength());
  if (!(v = get("stream_version")) || !v->IsInt64()) return missing("stream_version");
  e.stream_version = v->GetInt64();
  if (!(v = get("event_id")) || !v->IsString()) return missing("event_id");
  auto id = Uuid::Parse(std::string_view(v->GetString(), v->GetStringLength()));
  if (!id.ok()) return missing("event_id");
  e.event_id = *id;
  if (!(v = get("type")) || !v->IsString()) return missing("type");
  e.type.assign(v->GetString(), v->GetStringLength());
  if (!(v = get("data")) || !v->IsObject()) return missing("data");
  e.data = compact(*v);
  if (!(v = get("metadata")) || !v->IsObject()) return missing("metadata");
  e.metadata = compact(*v);
  if (!(v = get("recorded_at_us")) || !v->IsInt64()) return missing("recorded_at_us");
  e.recorded_at = FromUnixMicros(v->GetInt64());
  if (!(v = get("hash")) || !v->IsString()) return missing("hash");
  auto h = HashFromHex(std::string_view(v->GetString(), v->GetStringLength()));
  if (!h.ok()) return missing("hash");
  e.hash = *h;
  return e;
}

}  // namespace strato::events
