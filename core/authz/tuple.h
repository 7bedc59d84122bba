// Relationship tuples in text form, as stored in relationship_tuples and written in Permify's
// notation "entity_type:entity_id#relation@subject_type:subject_id[#subject_relation]".
//
// Plain values; safe to copy between threads. subject_relation is empty for a plain subject
// ("#..." in Permify's notation means the same and is normalised to empty).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace strato::authz {

struct Tuple {
  std::string entity_type;
  std::string entity_id;
  std::string relation;
  std::string subject_type;
  std::string subject_id;
  std::string subject_relation;  // "" for a plain subject

  bool operator==(const Tuple&) const = default;
};

// A subject in text form: "user:1" or "organization:2#member".
struct SubjectText {
  std::string type;
  std::string id;
  std::string relation;
};

// "doc:1#owner@user:1", "doc:1#owner@organization:2#admin", "repo:1#org@organization:1#...".
Result<Tuple> ParseTuple(std::string_view text);
// "user:1", "group:1#member".
Result<SubjectText> ParseSubject(std::string_view text);
// "doc:1" -> type and id.
Result<std::pair<std::string, std::string>> ParseEntity(std::string_view text);

std::string ToString(const Tuple& t);

}  // namespace strato::authz
