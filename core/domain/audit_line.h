// How an event reads in the audit trail: a one-line summary a person can read, without
// secrets. The audit log page, the events API, the dashboard's recent activity and a VM's
// history show it next to the event's position, time, actor, stream and type, which they read
// from the log (http/app/visibility.h).
//
//   summary: the type, then up to kMaxSummaryFields of the event's scalar data fields as
//            key=value: first the salient ones in the order of kSalientFields, then the others
//            in the order the data keeps them. Strings that are not plain words are quoted as
//            JSON, and long ones shortened. Objects, arrays and nulls are left out.
//
// It never shows secrets: a data field whose name contains "secret", "token", "password",
// "key", "challenge" or "signature" (in any case) is skipped, salient or not.
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/domain/domain_event.h"

namespace strato::domain {

inline constexpr size_t kMaxSummaryFields = 4;
inline constexpr size_t kMaxSummaryValueChars = 60;  // longer strings end with "…"

// The fields a summary shows first, when present (the rest follow in the data's order).
inline constexpr std::string_view kSalientFields[] = {
    "name",    "username", "display_name", "state",   "desired_state", "observed_state",
    "host_id", "vm_id",    "org_id",       "user_id", "role",          "reason",
};

// True for a data field whose name says it holds a secret.
bool IsSecretField(std::string_view field_name);

// The audit line of an event: "VmCreated name=web-1 state=running host_id=4c2a...", from its
// type and its data parsed, or its data as JSON text (not an object: the type alone).
std::string AuditSummary(std::string_view type, const rapidjson::Value& data);
std::string AuditSummary(std::string_view type, const std::string& data);

}  // namespace strato::domain
