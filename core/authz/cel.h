// A small subset of CEL (Common Expression Language), enough for the bodies of Permify rules:
// literals (integers, doubles, 'strings', "strings", true, false, [lists]), rule arguments,
// context.data.<key>, parentheses, ! and unary -, + - * /, == != < <= > >=, `in`, && and ||.
//
// CompileCel parses once; a CelProgram is immutable and may be evaluated from many threads at
// once. Anything outside the subset is a compile error with a sentence; the schema compiler keeps
// such rules and reports the error when a check needs them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/authz/value.h"
#include "core/status.h"

namespace strato::authz {

struct CelNode;

class CelProgram {
 public:
  // `params` are the rule's argument names; values are passed to Eval in the same order.
  static Result<std::shared_ptr<const CelProgram>> Compile(std::string_view text,
                                                           const std::vector<std::string>& params);

  // Errors: a missing context.data key, a type mismatch, a non-boolean result.
  Result<bool> Eval(const std::vector<Value>& args, const ContextData* context) const;

  ~CelProgram();

 private:
  CelProgram() = default;
  std::vector<CelNode> nodes_;
  uint32_t root_ = 0;
};

}  // namespace strato::authz
