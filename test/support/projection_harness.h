// Declarative projection tests: "given these events, expect these rows". A scenario appends
// its events to a scratch database (TestDatabase, one append per event), folds them with the
// real ProjectionRunner (started, waited for with WaitFor, stopped), runs each query and
// compares the rows it returns, as text, with the expected ones. By default it then resets
// every projection and folds again (a rebuild) and compares again, so every scenario also
// checks that a rebuild gives the same rows.
//
//   test::ProjectionScenario s;
//   s.given = {{"VmCreated", "vm-1", R"({"name":"web-1"})", R"({"actor":"user-7"})"}};
//   s.expect = {{"SELECT actor, summary FROM audit_entries ORDER BY position",
//                {{"user-7", "VmCreated name=web-1"}}}};
//   CHECK(test::ProjectionScenarioReport(MakeAudit, s) == "");  // doctest prints the report
//
// Values are compared in PostgreSQL's text output; a NULL is test::kNull. Positions are 1..N
// in the order of `given`. Use from the test thread only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "events/pg/pg.h"
#include "projections/runner/projection.h"
#include "test/support/test_env.h"

namespace strato::test {

// How a NULL appears in expected and actual rows.
inline const std::string kNull = "<NULL>";

using Rows = std::vector<std::vector<std::string>>;

struct GivenEvent {
  std::string type;
  std::string stream;
  std::string data = "{}";
  std::string metadata = "{}";
};

struct ExpectedRows {
  std::string query;  // SQL without parameters; give it an ORDER BY
  Rows rows;
};

// Makes the projections under test (called again for the rebuild).
using ProjectionFactory = std::function<std::vector<std::unique_ptr<projections::Projection>>()>;

struct ProjectionScenario {
  std::vector<std::string> setup_sql;  // run first, e.g. CREATE TABLE for a test projection
  std::vector<GivenEvent> given;
  std::vector<ExpectedRows> expect;
  bool check_rebuild = true;  // also Reset, fold again from position 1, and compare again
};

// Runs the scenario on `db` (normally fresh). Returns "" when every query returned its rows,
// otherwise a readable report: each differing query with its rows side by side.
std::string RunProjectionScenario(TestDatabase& db, const ProjectionFactory& make,
                                  const ProjectionScenario& scenario);

// RunProjectionScenario on a fresh TestDatabase; "" when every expectation held.
std::string ProjectionScenarioReport(const ProjectionFactory& make,
                                     const ProjectionScenario& scenario);

// A query's rows as text (kNull for NULL); an error fails the current test.
Rows QueryRows(events::PgConnection& conn, const std::string& sql);

// "" when equal, otherwise the rows of both, marked row by row.
std::string DiffRows(const std::string& query, const Rows& expected, const Rows& actual);

}  // namespace strato::test
