#include "projections/queries/tuple_feed.h"

#include "core/log.h"
#include "events/pg/pg.h"
#include "projections/models/relationship_projection.h"

namespace strato::projections {

namespace {

constexpr size_t kBatch = 1000;

authz::TupleBatch ToBatch(std::vector<TupleChange>& changes) {
  authz::TupleBatch b;
  for (TupleChange& c : changes) {
    switch (c.kind) {
      case TupleChange::Kind::kAdd:
        b.inserts.push_back({std::move(c.entity_type), std::move(c.entity_id),
                             std::move(c.relation), std::move(c.subject_type),
                             std::move(c.subject_id), ""});
        break;
      case TupleChange::Kind::kRemoveEntity:
        b.delete_entities.emplace_back(c.entity_type, c.entity_id);
        break;
      case TupleChange::Kind::kRemoveMember:
        for (const char* role : {"owner", "member"}) {
          b.deletes.push_back({"organization", c.entity_id, role, "user", c.subject_id, ""});
        }
        break;
      case TupleChange::Kind::kRemove:
        b.deletes.push_back({std::move(c.entity_type), std::move(c.entity_id),
                             std::move(c.relation), std::move(c.subject_type),
                             std::move(c.subject_id), ""});
        break;
    }
  }
  return b;
}

}  // namespace

Result<std::unique_ptr<TupleFeed>> TupleFeed::Create(std::shared_ptr<const authz::Schema> schema,
                                                     const std::string& database_url,
                                                     events::EventStore& store,
                                                     std::unique_ptr<events::AppendWaiter> waiter) {
  auto conn = events::PgConnection::Connect(database_url);
  if (!conn.ok()) return conn.status();
  events::PgConnection& db = **conn;
  STRATO_RETURN_IF_ERROR(db.Run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  auto checkpoint =
      db.Exec("SELECT position FROM projection_checkpoints WHERE name = $1", {"relationships"});
  if (!checkpoint.ok()) return checkpoint.status().WithContext("reading the tuples' checkpoint");
  int64_t position = checkpoint->rows() == 0 ? 0 : checkpoint->GetInt64(0, 0);
  auto rows = db.Exec(
      "SELECT entity_type, entity_id, relation, subject_type, subject_id, subject_relation FROM "
      "relationship_tuples");
  if (!rows.ok()) return rows.status().WithContext("reading relationship tuples");
  STRATO_RETURN_IF_ERROR(db.Run("COMMIT"));
  std::vector<authz::Tuple> tuples;
  tuples.reserve(rows->rows());
  for (int i = 0; i < rows->rows(); ++i) {
    tuples.push_back({std::string(rows->Get(i, 0)), std::string(rows->Get(i, 1)),
                      std::string(rows->Get(i, 2)), std::string(rows->Get(i, 3)),
                      std::string(rows->Get(i, 4)), std::string(rows->Get(i, 5))});
  }
  auto memory = authz::MemoryTupleStore::FromRows(std::move(schema), tuples);
  if (!memory.ok()) return memory.status().WithContext("loading relationship tuples");
  std::unique_ptr<TupleFeed> feed(new TupleFeed(store, std::move(waiter)));
  feed->tuples_ = std::move(*memory);
  feed->engine_ = std::make_unique<authz::Engine>(*feed->tuples_);
  feed->position_ = position;
  return feed;
}

Result<std::unique_ptr<TupleFeed>> TupleFeed::FromStart(std::shared_ptr<const authz::Schema> schema,
                                                        events::EventStore& store) {
  auto memory = authz::MemoryTupleStore::FromRows(std::move(schema), {});
  if (!memory.ok()) return memory.status();
  std::unique_ptr<TupleFeed> feed(new TupleFeed(store, nullptr));
  feed->tuples_ = std::move(*memory);
  feed->engine_ = std::make_unique<authz::Engine>(*feed->tuples_);
  return feed;
}

TupleFeed::~TupleFeed() {
  Stop();
}

Result<size_t> TupleFeed::Step() {
  int64_t from = position_.load();
  auto batch = store_.ReadAll(from, kBatch);
  if (!batch.ok()) return batch.status();
  for (const events::RecordedEvent& e : *batch) {
    auto changes = RelationshipChanges(e);
    if (!changes.ok()) return changes.status().WithContext("event " + std::to_string(e.position));
    if (!changes->empty()) {
      Status applied = tuples_->Apply(ToBatch(*changes));
      if (!applied.ok()) {
        return applied.WithContext("applying event " + std::to_string(e.position));
      }
    }
    {
      std::lock_guard lock(mu_);
      position_ = e.position;
    }
  }
  advanced_.notify_all();
  return batch->size();
}

Status TupleFeed::CatchUp() {
  while (true) {
    auto n = Step();
    if (!n.ok()) return n.status();
    if (*n < kBatch) return Status::Ok();
  }
}

void TupleFeed::Start() {
  stop_ = false;
  thread_ = std::thread([this] {
    while (!stop_) {
      auto n = Step();
      if (!n.ok()) {
        log::Error("the authorization tuples stopped following the log",
                   {{"error", n.status().message()}, {"position", position_.load()}});
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      if (*n == kBatch) continue;
      if (waiter_) {
        (void)waiter_->Wait(position_.load(), std::chrono::milliseconds(250));
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  });
}

void TupleFeed::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

Status TupleFeed::WaitFor(int64_t position, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  bool reached = advanced_.wait_for(lock, timeout, [&] { return position_.load() >= position; });
  if (reached) return Status::Ok();
  return Status::DeadlineExceeded("the authorization tuples are at position " +
                                  std::to_string(position_.load()) + ", not yet at " +
                                  std::to_string(position));
}

Result<EntityIds> TupleFeed::Readable(std::string_view entity_type, std::string_view permission,
                                      std::string_view user_id) const {
  std::string key;
  key.reserve(entity_type.size() + permission.size() + user_id.size() + 2);
  key.append(entity_type).append("#").append(permission).append("@").append(user_id);
  // Read the revision before looking up: an answer is never labelled newer than the tuples it
  // was computed from (a change during the lookup only makes the next request look again).
  const uint64_t revision = tuples_->revision();
  {
    std::lock_guard<std::mutex> lock(answers_mu_);
    auto it = answers_.find(key);
    if (it != answers_.end() && it->second.revision == revision) return it->second.ids;
  }
  authz::LookupEntitiesRequest q;
  q.entity_type = entity_type;
  q.permission = permission;
  q.subject_type = "user";
  q.subject_id = user_id;
  auto ids = engine_->LookupEntities(q);
  if (!ids.ok()) return ids.status();
  auto shared = std::make_shared<const std::vector<std::string>>(std::move(*ids));
  std::lock_guard<std::mutex> lock(answers_mu_);
  if (answers_.size() >= kReadableCacheEntries) answers_.clear();
  answers_[std::move(key)] = Answer{revision, shared};
  return shared;
}

}  // namespace strato::projections
