// Aggregate states as JSON objects, for `strato replay --as-of` and other tools that show
// what an aggregate looked like. Pure; thread-safe.
#pragma once

#include <string>

#include "core/domain/host.h"
#include "core/domain/organization.h"
#include "core/domain/user.h"
#include "core/domain/vm.h"

namespace strato::domain {

std::string ToJson(const VmState& s);
std::string ToJson(const OrganizationState& s);
std::string ToJson(const UserState& s);
std::string ToJson(const HostState& s);

}  // namespace strato::domain
