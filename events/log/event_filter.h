// EventFilter: which events a reader wants (type, actor, time range). Used by `strato events`
// and audit queries over the log. A plain value; Matches is thread-safe.
#pragma once

#include <optional>
#include <string>

#include "events/log/event.h"

namespace strato::events {

struct EventFilter {
  std::optional<std::string> type;
  std::optional<std::string> actor;  // metadata.actor; events without one count as "system"
  std::optional<TimePoint> since;    // recorded_at >= since
  std::optional<TimePoint> until;    // recorded_at < until

  bool Matches(const RecordedEvent& e) const;
  // recorded_at never decreases along positions, so nothing after this event can match.
  bool PastTheEnd(const RecordedEvent& e) const { return until && e.recorded_at >= *until; }
};

// metadata.actor, or "system".
std::string ActorOf(const RecordedEvent& e);

}  // namespace strato::events
