#include "core/authz/tuple.h"

namespace strato::authz {

Result<std::pair<std::string, std::string>> ParseEntity(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not an entity; expected type:id such as 'vm:1'");
  }
  return std::pair{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

Result<SubjectText> ParseSubject(std::string_view text) {
  SubjectText s;
  std::string_view entity = text;
  const size_t hash = text.find('#');
  if (hash != std::string_view::npos) {
    entity = text.substr(0, hash);
    s.relation = std::string(text.substr(hash + 1));
    if (s.relation == "...") s.relation.clear();
    if (hash + 1 == text.size()) {
      return Status::InvalidArgument("subject '" + std::string(text) +
                                     "' has an empty relation after '#'");
    }
  }
  auto e = ParseEntity(entity);
  if (!e.ok()) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a subject; expected type:id or type:id#relation");
  }
  s.type = std::move(e->first);
  s.id = std::move(e->second);
  return s;
}

Result<Tuple> ParseTuple(std::string_view text) {
  const size_t hash = text.find('#');
  const size_t at = text.find('@', hash == std::string_view::npos ? 0 : hash);
  if (hash == std::string_view::npos || at == std::string_view::npos || at < hash) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a relationship; expected "
                                   "entity:id#relation@subject:id[#relation]");
  }
  auto entity = ParseEntity(text.substr(0, hash));
  auto subject = ParseSubject(text.substr(at + 1));
  if (!entity.ok() || !subject.ok() || at == hash + 1) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a relationship; expected "
                                   "entity:id#relation@subject:id[#relation]");
  }
  Tuple t;
  t.entity_type = std::move(entity->first);
  t.entity_id = std::move(entity->second);
  t.relation = std::string(text.substr(hash + 1, at - hash - 1));
  t.subject_type = std::move(subject->type);
  t.subject_id = std::move(subject->id);
  t.subject_relation = std::move(subject->relation);
  return t;
}

std::string ToString(const Tuple& t) {
  std::string s = t.entity_type + ":" + t.entity_id + "#" + t.relation + "@" + t.subject_type +
                  ":" + t.subject_id;
  if (!t.subject_relation.empty()) s += "#" + t.subject_relation;
  return s;
}

}  // namespace strato::authz
