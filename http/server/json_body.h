// JsonBody: strict reading of a JSON request body for the API. The body must be one JSON
// object in valid UTF-8, with only the fields the route knows (an unknown field is an error,
// so a typo never silently does nothing) and none twice, each of the expected type. Errors are
// kInvalidArgument sentences naming the field. A plain value used on one thread.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace strato::http {

class JsonBody {
 public:
  // An empty body reads as {} when `empty_ok`.
  static Result<JsonBody> Parse(std::string_view body, std::vector<std::string> allowed_fields,
                                bool empty_ok = false);

  bool Has(const char* field) const;
  Result<std::string> Str(const char* field) const;  // required string
  Result<std::optional<std::string>> OptStr(const char* field) const;
  Result<int64_t> Int(const char* field, int64_t min, int64_t max) const;  // required
  Result<std::optional<int64_t>> OptInt(const char* field, int64_t min, int64_t max) const;
  Result<std::optional<bool>> OptBool(const char* field) const;
  // A required object field, as compact JSON text (to hand to a parser of its own).
  Result<std::string> ObjectText(const char* field) const;

 private:
  JsonBody() = default;
  rapidjson::Document doc_;
};

}  // namespace strato::http
