#include "events/log/event_filter.h"

#include <rapidjson/document.h>

namespace strato::events {

std::string ActorOf(const RecordedEvent& e) {
  rapidjson::Document d;
  d.Parse(e.metadata.data(), e.metadata.size());
  if (d.HasParseError() || !d.IsObject()) return "system";
  auto it = d.FindMember("actor");
  if (it == d.MemberEnd() || !it->value.IsString()) return "system";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

bool EventFilter::Matches(const RecordedEvent& e) const {
  if (type && e.type != *type) return false;
  if (since && e.recorded_at < *since) return false;
  if (until && e.recorded_at >= *until) return false;
  if (actor && ActorOf(e) != *actor) return false;
  return true;
}

}  // namespace strato::events
