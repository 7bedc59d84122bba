#include "test/support/projection_harness.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "projections/runner/runner.h"

namespace strato::test {

namespace {

constexpr auto kFoldTimeout = std::chrono::seconds(60);

std::string ShowRow(const std::vector<std::string>& row) {
  std::string out;
  for (size_t i = 0; i < row.size(); ++i) {
    if (i > 0) out += " | ";
    if (row[i] == kNull) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : row[i]) {
      if (c == '"' || c == '\\') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  return "[" + out + "]";
}

Result<Rows> TryQueryRows(events::PgConnection& conn, const std::string& sql) {
  auto r = conn.Exec(sql);
  if (!r.ok()) return r.status();
  Rows rows;
  for (int i = 0; i < r->rows(); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < r->columns(); ++j) {
      row.push_back(r->IsNull(i, j) ? kNull : std::string(r->Get(i, j)));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// Every expected query against the database; the report of those that differ.
std::string CompareAll(events::PgConnection& conn, const ProjectionScenario& scenario,
                       const std::string& when) {
  std::string report;
  for (const ExpectedRows& want : scenario.expect) {
    auto got = TryQueryRows(conn, want.query);
    if (!got.ok()) {
      report +=
          when + ": the query failed: " + want.query + "\n  " + got.status().ToString() + "\n";
      continue;
    }
    std::string diff = DiffRows(want.query, want.rows, *got);
    if (!diff.empty()) report += when + ": " + diff;
  }
  return report;
}

}  // namespace

Rows QueryRows(events::PgConnection& conn, const std::string& sql) {
  auto rows = TryQueryRows(conn, sql);
  REQUIRE_MESSAGE(rows.ok(), sql << ": " << rows.status().ToString());
  return std::move(rows).value();
}

std::string DiffRows(const std::string& query, const Rows& expected, const Rows& actual) {
  if (expected == actual) return "";
  std::ostringstream out;
  out << "rows differ for: " << query << "\n";
  out << "  expected " << expected.size() << " rows, got " << actual.size() << "\n";
  size_t n = std::max(expected.size(), actual.size());
  for (size_t i = 0; i < n; ++i) {
    std::string label = "  row " + std::to_string(i + 1);
    std::string pad(label.size(), ' ');
    if (i >= actual.size()) {
      out << label << "  missing   " << ShowRow(expected[i]) << "\n";
    } else if (i >= expected.size()) {
      out << label << "  extra     " << ShowRow(actual[i]) << "\n";
    } else if (expected[i] == actual[i]) {
      out << label << "  same      " << ShowRow(actual[i]) << "\n";
    } else {
      out << label << "  expected  " << ShowRow(expected[i]) << "\n";
      out << pad << "  got       " << ShowRow(actual[i]) << "\n";
    }
  }
  return out.str();
}

std::string RunProjectionScenario(TestDatabase& db, const ProjectionFactory& make,
                                  const ProjectionScenario& scenario) {
  auto conn = db.Connect();
  for (const std::string& sql : scenario.setup_sql) {
    Status s = conn->Run(sql);
    if (!s.ok()) return "setup failed: " + sql + "\n  " + s.ToString() + "\n";
  }
  int64_t last = 0;
  for (size_t i = 0; i < scenario.given.size(); ++i) {
    const GivenEvent& g = scenario.given[i];
    events::AppendRequest req;
    events::StreamAppend sa;
    sa.stream_id = g.stream;
    events::NewEvent e;
    e.type = g.type;
    e.data = g.data;
    e.metadata = g.metadata;
    sa.events.push_back(std::move(e));
    req.streams.push_back(std::move(sa));
    auto r = db.store().Append(std::move(req));
    if (!r.ok()) {
      return "given event " + std::to_string(i + 1) + " (" + g.type + " on " + g.stream +
             ") was refused: " + r.status().ToString() + "\n";
    }
    last = r->last_position;
  }

  projections::RunnerOptions options;
  options.database_url = db.url();
  auto runner = projections::ProjectionRunner::Create(db.store(), db.NewWaiter(), make(), options);
  if (!runner.ok()) return "the runner: " + runner.status().ToString() + "\n";
  Status started = (*runner)->Start();
  if (!started.ok()) return "the runner did not start: " + started.ToString() + "\n";
  Status folded = (*runner)->WaitFor(projections::kAllProjections, last, kFoldTimeout);
  (*runner)->Stop();
  if (!folded.ok()) return "folding the given events: " + folded.ToString() + "\n";
  std::string report = CompareAll(*conn, scenario, "after folding");
  if (!scenario.check_rebuild) return report;

  for (const projections::ProjectionState& st : (*runner)->States()) {
    Status s = (*runner)->Reset(st.name);
    if (!s.ok()) return report + "reset: " + s.ToString() + "\n";
  }
  Status rebuilt = (*runner)->CatchUp();
  if (!rebuilt.ok()) return report + "rebuilding: " + rebuilt.ToString() + "\n";
  return report + CompareAll(*conn, scenario, "after a rebuild");
}

std::string ProjectionScenarioReport(const ProjectionFactory& make,
                                     const ProjectionScenario& scenario) {
  TestDatabase db;
  return RunProjectionScenario(db, make, scenario);
}

}  // namespace strato::test
