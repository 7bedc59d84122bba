#include "http/server/json_body.h"

#include <rapidjson/error/en.h>

#include <algorithm>

#include "core/json_writer.h"

namespace strato::http {

Result<JsonBody> JsonBody::Parse(std::string_view body, std::vector<std::string> allowed,
                                 bool empty_ok) {
  JsonBody b;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    if (!empty_ok) return Status::InvalidArgument("the request body is empty; send a JSON object");
    b.doc_.SetObject();
    return b;
  }
  // Without kParseStopWhenDoneFlag, text after the value is an error (root not singular). The
  // iterative parser keeps its stack on the heap: a body of a million '[' is an error, not a
  // stack overflow.
  b.doc_.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(body.data(),
                                                                                       body.size());
  if (b.doc_.HasParseError()) {
    if (b.doc_.GetParseError() == rapidjson::kParseErrorStringInvalidEncoding) {
      return Status::InvalidArgument("the request body is not valid UTF-8");
    }
    return Status::InvalidArgument(std::string("the request body is not valid JSON: ") +
                                   rapidjson::GetParseError_En(b.doc_.GetParseError()) +
                                   " (at byte " + std::to_string(b.doc_.GetErrorOffset()) + ")");
  }
  if (!b.doc_.IsObject()) return Status::InvalidArgument("the request body must be a JSON object");
  for (auto it = b.doc_.MemberBegin(); it != b.doc_.MemberEnd(); ++it) {
    std::string name(it->name.GetString(), it->name.GetStringLength());
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string known;
      for (const std::string& a : allowed) known += (known.empty() ? "" : ", ") + a;
      return Status::InvalidArgument("unknown field \"" + name + "\"; this request takes " +
                                     (known.empty() ? std::string("no fields") : known));
    }
    // A field given twice would be read as whichever comes first: refuse the ambiguity. (After
    // the check above, so this loop is bounded by the number of known fields.)
    for (auto earlier = b.doc_.MemberBegin(); earlier != it; ++earlier) {
      if (earlier->name == it->name) {
        return Status::InvalidArgument("the field \"" + name + "\" appears more than once");
      }
    }
  }
  return b;
}

bool JsonBody::Has(const char* field) const {
  auto it = doc_.FindMember(field);
  return it != doc_.MemberEnd() && !it->value.IsNull();
}

Result<std::optional<std::string>> JsonBody::OptStr(const char* field) const {
  auto it = doc_.FindMember(field);
  if (it == doc_.MemberEnd() || it->value.IsNull()) return std::optional<std::string>();
  if (!it->value.IsString()) {
    return Status::InvalidArgument(std::string("the field \"") + field + "\" must be a string");
  }
  return std::optional<std::string>(
      std::string(it->value.GetString(), it->value.GetStringLength()));
}

Result<std::string> JsonBody::Str(const char* field) const {
  auto v = OptStr(field);
  if (!v.ok()) return v.status();
  if (!*v) return Status::InvalidArgument(std::string("the field \"") + field + "\" is required");
  return **v;
}

Result<std::optional<int64_t>> JsonBody::OptInt(const char* field, int64_t min, int64_t max) const {
  auto it = doc_.FindMember(field);
  if (it == doc_.MemberEnd() || it->value.IsNull()) return std::optional<int64_t>();
  if (!it->value.IsInt64()) {
    if (it->value.IsNumber()) {
      return Status::InvalidArgument(std::string("the field \"") + field +
                                     "\" must be a whole number from " + std::to_string(min) +
                                     " to " + std::to_string(max));
    }
    return Status::InvalidArgument(std::string("the field \"") + field + "\" must be a number");
  }
  int64_t n = it->value.GetInt64();
  if (n < min || n > max) {
    return Status::InvalidArgument(std::string("the field \"") + field + "\" must be from " +
                                   std::to_string(min) + " to " + std::to_string(max) + "; got " +
                                   std::to_string(n));
  }
  return std::optional<int64_t>(n);
}

Result<int64_t> JsonBody::Int(const char* field, int64_t min, int64_t max) const {
  auto v = OptInt(field, min, max);
  if (!v.ok()) return v.status();
  if (!*v) return Status::InvalidArgument(std::string("the field \"") + field + "\" is required");
  return **v;
}

Result<std::optional<bool>> JsonBody::OptBool(const char* field) const {
  auto it = doc_.FindMember(field);
  if (it == doc_.MemberEnd() || it->value.IsNull()) return std::optional<bool>();
  if (!it->value.IsBool()) {
    return Status::InvalidArgument(std::string("the field \"") + field +
                                   "\" must be true or false");
  }
  return std::optional<bool>(it->value.GetBool());
}

Result<std::string> JsonBody::ObjectText(const char* field) const {
  auto it = doc_.FindMember(field);
  if (it == doc_.MemberEnd() || it->value.IsNull()) {
    return Status::InvalidArgument(std::string("the field \"") + field + "\" is required");
  }
  if (!it->value.IsObject()) {
    return Status::InvalidArgument(std::string("the field \"") + field + "\" must be an object");
  }
  JsonWriter w;
  w.Copy(it->value);
  return w.Text();
}

}  // namespace strato::http
