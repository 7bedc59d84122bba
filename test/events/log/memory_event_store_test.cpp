#include <doctest/doctest.h>

#include <thread>

#include "events/log/memory_event_store.h"

using namespace strato;
using namespace strato::events;

namespace {
AppendRequest One(const std::string& stream, ExpectedVersion ev) {
  AppendRequest r;
  r.streams.push_back({stream, ev, {NewEvent{"VmStarted", "{}", "{}"}}});
  return r;
}
}  // namespace

TEST_CASE(
    "the in-memory fake keeps the store's contract for versions and conflicts and idempotency") {
  MemoryEventStore store;
  REQUIRE(store.Append(One("vm-a", ExpectedVersion::NoStream())).ok());
  auto conflict = store.Append(One("vm-a", ExpectedVersion::NoStream()));
  CHECK(conflict.status().code() == Code::kConflict);
  auto exact = store.Append(One("vm-a", ExpectedVersion::Exact(1)));
  REQUIRE(exact.ok());
  CHECK(exact->last_position == 2);

  AppendRequest cmd = One("vm-b", ExpectedVersion::NoStream());
  cmd.command_id = Uuid::NewV4();
  auto first = store.Append(cmd);
  auto again = store.Append(cmd);
  REQUIRE(again.ok());
  CHECK(again->duplicate);
  CHECK(again->last_position == first->last_position);
  CHECK(*store.LastPosition() == 3);

  auto bad = store.Append(One("", ExpectedVersion::Any()));
  CHECK(bad.status().code() == Code::kInvalidArgument);
  CHECK(*store.LastPosition() == 3);
}

TEST_CASE("the in-memory fake wakes a waiter when an event is appended") {
  MemoryEventStore store;
  auto waiter = store.NewWaiter();
  std::thread appender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(store.Append(One("vm-a", ExpectedVersion::Any())).ok());
  });
  auto start = std::chrono::steady_clock::now();
  CHECK(waiter->Wait(0, std::chrono::seconds(10)).ok());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(9));
  appender.join();
  auto all = store.ReadAll(0, 10);
  REQUIRE(all.ok());
  CHECK(all->size() == 1);
}
