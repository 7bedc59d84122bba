// PlannedProjection: the shape most read models share. A subclass turns each event into the
// parameterized statements that change its tables (Plan); a batch of events is sent to
// PostgreSQL as one pipeline inside the runner's transaction. Use from one thread at a time
// (the runner's).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "projections/runner/projection.h"

namespace strato::projections {

class PlannedProjection : public Projection {
 public:
  explicit PlannedProjection(std::string name) : name_(std::move(name)) {}

  const std::string& name() const override { return name_; }
  Status Apply(events::PgConnection& tx, const events::RecordedEvent& e) override;
  Status ApplyBatch(events::PgConnection& tx, std::span<const events::RecordedEvent> es) override;

 protected:
  // Appends the statements for `e` (none for events this read model ignores).
  virtual Status Plan(const events::RecordedEvent& e,
                      std::vector<events::PgStatement>& out) const = 0;

  const std::string name_;
};

// The id part of the event's stream id "<category>-<id>".
std::string StreamEntityId(const events::RecordedEvent& e);

}  // namespace strato::projections
