// Rebuild: what `strato replay` does to the read models. It folds the whole event log, from
// position 1, into FRESH copies of every projection's tables, then swaps them in atomically
// and says whether they equal what the live runner had built.
//
//   1. Under a session advisory lock (one rebuild at a time), creates the schema
//      strato_rebuild with `CREATE TABLE strato_rebuild.T (LIKE <live>.T INCLUDING ALL)` for
//      every table T the projections own, and folds the log into them on a connection whose
//      search_path is `strato_rebuild, <live schema>` (projections use unqualified table names).
//      One transaction per batch, synchronous_commit off: nothing is visible or needed until
//      the swap. The next batch is read while the current one is applied.
//   2. In ONE transaction: locks every projection's checkpoint row (FOR UPDATE, in registry
//      order, as the runner does: the live runners wait, and the live tables cannot change,
//      since a runner writes a projection's tables only under its checkpoint row's lock), folds
//      the events appended meanwhile into the fresh tables, brings a live projection that was
//      behind up to the same position (so both sides are compared at one position), compares
//      each table's rows both ways (the live tables of projections already at that position
//      summed up on a second session at the same time), locks the live tables against
//      readers, replaces each live table by its fresh copy (index and constraint names kept),
//      and sets the checkpoints to the rebuilt position with errors cleared. A failure
//      anywhere rolls it all back: the live tables stay as they were.
//
//   When every projection has a BulkFold (projection.h), step 1 instead reads the log once
//   (events/pg/log_scan.h: one binary COPY on a session of its own), parses each event's data
//   once for every fold, and folds it in memory (every read model's final rows are held in
//   memory at once; rows final as soon as they are folded, the audit trail's, are written
//   meanwhile), with every index of the fresh tables dropped, primary keys and unique
//   constraints included. Two sessions of its own write the rows with COPY and add each
//   constraint and index again (same names) as soon as its table is written, while the other
//   session copies or indexes another table. Should a bulk fold fail, the fresh tables are
//   made again and step 1 runs batch by batch as above. Catching up afterwards always goes
//   through ApplyBatch, and the comparison with the live tables catches any difference
//   between the two. The fresh tables have autovacuum off until the swap.
//
//   The comparison scans each side of a table once, for its row count and the sum of its
//   rows' 64-bit hashes (hash_record_extended, mixed again since it is linear in the columns'
//   hashes; so every column type must have a hash function, as all built-in scalar types but
//   json and xml do). Only a table whose sums differ has its rows matched up as text (EXCEPT
//   ALL both ways) to count what each side lacks.
//
// Live tables are replaced even when they differ (the log is the truth); the report names
// them. Tables with foreign keys are refused (LIKE does not copy them).
//
// Threading: Rebuild runs on the caller's thread (plus one reader thread and, for the bulk
// write, two writer threads of its own, and one for the comparison); the progress callback is
// called on the caller's thread. The store is borrowed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "events/log/event_store.h"
#include "projections/runner/projection.h"

namespace strato::projections {

inline constexpr const char* kRebuildSchema = "strato_rebuild";

struct RebuildProgress {
  int64_t done = 0;   // events folded so far
  int64_t total = 0;  // events in the log when the rebuild began (grows if it catches up more)
  double events_per_second = 0;
  double eta_seconds = 0;  // 0 when unknown or done
  // What runs now: "" while the log is folded (what done and total count), then "writing the
  // tables and building their indexes", "catching up", "comparing with the live tables" and
  // "swapping the tables in".
  std::string stage;
};

struct RebuildOptions {
  std::string database_url;  // the database of the log, the read models and the checkpoints
  size_t batch_size = 5000;  // events per read and per transaction
  // Called after every batch folded and when a stage begins (on the caller's thread).
  std::function<void(const RebuildProgress&)> on_progress;
};

struct TableDifference {
  std::string table;
  int64_t only_live = 0;     // rows the live table had and the rebuild does not
  int64_t only_rebuilt = 0;  // rows the rebuild has and the live table had not
};

struct RebuildPhase {
  std::string name;
  std::chrono::duration<double> elapsed{0};
};

struct RebuildReport {
  size_t projections = 0;
  std::vector<std::string> tables;  // every table replaced
  int64_t position = 0;             // the position the rebuilt tables (and checkpoints) are at
  int64_t events = 0;               // events folded
  std::chrono::duration<double> elapsed{0};
  std::vector<TableDifference> differences;  // empty: identical
  // Projections whose live tables could not be compared, each with a sentence why (e.g. the
  // live projection had not run yet, or had stopped on an event).
  std::vector<std::string> not_compared;
  // How the log up to the first catch-up was folded: "bulk" (every projection's BulkFold, in
  // memory, then COPY) or "batch" (ApplyBatch, batch by batch). bulk_fallback says why a bulk
  // fold was abandoned for batches ("" when it was not).
  std::string path;
  std::string bulk_fallback;
  // Where the time went, in the order the phases first ran: "prepare" (the fresh tables),
  // "fold" (reading and folding the log; on the bulk path also writing the rows final
  // meanwhile), "write" (bulk path: the rest of the COPY, the indexes and constraints),
  // "catch up" (events appended meanwhile, and live projections that were behind), "compare"
  // (the live tables against the rebuilt ones) and "swap". They add up to `elapsed`.
  std::vector<RebuildPhase> phases;

  bool identical() const { return differences.empty(); }
};

Result<RebuildReport> Rebuild(events::EventStore& store,
                              std::vector<std::unique_ptr<Projection>> projections,
                              const RebuildOptions& options);

}  // namespace strato::projections
