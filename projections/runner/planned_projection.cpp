#include "projections/runner/planned_projection.h"

namespace strato::projections {

std::string StreamEntityId(const events::RecordedEvent& e) {
  return e.stream_id.substr(e.Category().size() + 1);
}

Status PlannedProjection::Apply(events::PgConnection& tx, const events::RecordedEvent& e) {
  return ApplyBatch(tx, std::span<const events::RecordedEvent>(&e, 1));
}

Status PlannedProjection::ApplyBatch(events::PgConnection& tx,
                                     std::span<const events::RecordedEvent> es) {
  std::vector<events::PgStatement> statements;
  for (const events::RecordedEvent& e : es) {
    Status s = Plan(e, statements);
    if (!s.ok()) {
      return s.WithContext(name_ + ": the event at position " + std::to_string(e.position));
    }
  }
  if (statements.empty()) return Status::Ok();
  auto r = tx.ExecPipeline(statements);
  if (!r.ok()) return r.status().WithContext(name_);
  return Status::Ok();
}

}  // namespace strato::projections
