// Reading the past: the state of an aggregate (or of every aggregate) as it was at a position
// of the log or at a moment. recorded_at never decreases along positions, so a moment maps to
// the last position recorded at or before it. Thread-safe as the EventStore it reads.
#pragma once

#include <functional>
#include <string>

#include "events/log/event_store.h"

namespace strato::events {

// "1234" is a position; anything else must be an RFC 3339 time. Returns the position.
Result<int64_t> ResolveAsOf(EventStore& store, const std::string& as_of);

// The state of one aggregate stream (vm-, org-, user-, host-) after the events up to
// `position`, as a JSON object.
Result<std::string> StateAsOf(EventStore& store, const std::string& stream_id, int64_t position);

// Every aggregate's state up to `position`, one JSON object per aggregate, in stream-id order.
Status AllStatesAsOf(EventStore& store, int64_t position,
                     const std::function<void(const std::string& json)>& emit);

}  // namespace strato::events
