// permify_conformance: runs Permify's validation files and DSL cases against core/authz.
//
//   permify_conformance [--validation] [--dsl-cases] [--verbose] [--dir DIR]
//   permify_conformance --export-schemas DIR     (writes every schema, a fuzzing seed corpus)
//
// Validation files (test/conformance/permify/**/*.yaml, see its README): the schema is parsed and
// compiled, relationships written, and every assertion of checks, entity_filters and
// subject_filters evaluated, attributes and rules (ABAC) included: rule bodies run on the CEL
// subset of core/authz/cel.h, and a rule outside it fails its assertions (never passes them).
// DSL cases (dsl-cases/dsl_cases.json): parse or compile each schema and compare ok/error with
// Permify. Exit status 1 when any assertion or case fails. yaml-cpp throws; every exception is
// caught here.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/authz/engine.h"
#include "core/authz/memory_tuple_store.h"
#include "core/authz/schema.h"

namespace fs = std::filesystem;
using namespace strato;
using namespace strato::authz;

namespace {

// Assertions whose expectation we believe is not Permify's semantics (or not a real assertion).
// They are listed in the output and counted apart, never as passed.
struct Deviation {
  const char* file_suffix;
  const char* permission;
  const char* reason;
};
const Deviation kDeviations[] = {
    {"example-shapes/facebook-groups.yaml", "checks",
     "a stray 'checks:' key inside an assertions map (upstream quirk, see the corpus README): it "
     "asks for a permission group#checks that does not exist, which is an error in Permify too"},
};

const Deviation* FindDeviation(const std::string& file, const std::string& permission) {
  for (const Deviation& d : kDeviations) {
    const std::string suffix = d.file_suffix;
    if (file.size() >= suffix.size() &&
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        permission == d.permission) {
      return &d;
    }
  }
  return nullptr;
}

struct Totals {
  int files = 0, files_passed = 0, files_failed = 0, files_abac = 0;
  int passed = 0, failed = 0, listed = 0;
};

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Join(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s + "]";
}

std::vector<std::string> StringList(const YAML::Node& n) {
  std::vector<std::string> out;
  if (n && n.IsSequence()) {
    for (const auto& item : n) out.push_back(item.as<std::string>());
  }
  return out;
}

// The context of a check or filter: contextual tuples and attributes, and context.data.
struct Context {
  std::vector<std::string> tuples;
  std::vector<std::string> attributes;
  ContextData data;
};

Value ToValue(const YAML::Node& n) {
  if (n.IsSequence()) {
    std::vector<Value> items;
    for (const auto& item : n) items.push_back(ToValue(item));
    return Value::List(std::move(items));
  }
  if (!n.IsScalar()) return Value{};
  const std::string text = n.as<std::string>();
  if (n.Tag() == "!") return Value::String(text);  // quoted in the YAML
  if (text == "true" || text == "false") return Value::Bool(text == "true");
  int64_t i = 0;
  if (YAML::convert<int64_t>::decode(n, i)) return Value::Int(i);
  double d = 0;
  if (YAML::convert<double>::decode(n, d)) return Value::Double(d);
  return Value::String(text);
}

Context ReadContext(const YAML::Node& n) {
  Context c;
  if (!n || n.IsNull()) return c;
  if (n.IsSequence()) {  // older docs: a plain list of tuples
    c.tuples = StringList(n);
    return c;
  }
  if (n.IsMap()) {
    c.tuples = StringList(n["tuples"]);
    c.attributes = StringList(n["attributes"]);
    if (const YAML::Node data = n["data"]; data && data.IsMap()) {
      for (const auto& kv : data) c.data[kv.first.as<std::string>()] = ToValue(kv.second);
    }
  }
  return c;
}

// Writes attribute texts into a store; returns the first error.
Status WriteAttributeTexts(MemoryTupleStore& store, const std::vector<std::string>& texts) {
  std::vector<AttributeText> attrs;
  for (const std::string& text : texts) {
    auto a = ParseAttribute(text);
    if (!a.ok()) return a.status();
    attrs.push_back(std::move(*a));
  }
  return store.WriteAttributes(attrs);
}

class FileRun {
 public:
  FileRun(std::string name, bool verbose, Totals& totals)
      : name_(std::move(name)), verbose_(verbose), totals_(totals) {}

  void Run(const YAML::Node& doc) {
    const std::string schema_text = doc["schema"] ? doc["schema"].as<std::string>() : "";
    auto schema = LoadSchema(schema_text);
    if (!schema.ok()) {
      Fail("schema", "the schema did not load: " + schema.status().message());
      CountAll(doc, &Totals::failed);
      return;
    }
    if ((*schema)->uses_abac()) ++totals_.files_abac;
    StoreOptions lenient;
    lenient.check_subject_types = false;
    store_ = std::make_unique<MemoryTupleStore>(*schema, lenient);
    std::vector<Tuple> tuples;
    for (const std::string& text : StringList(doc["relationships"])) {
      auto t = ParseTuple(text);
      if (!t.ok()) {
        Fail("relationships", t.status().message());
        continue;
      }
      Status strict = ValidateTuple(**schema, *t, true);
      if (!strict.ok() && verbose_) {
        std::printf("    note: %s (kept: Permify's engine tests write it straight to storage)\n",
                    strict.message().c_str());
      }
      tuples.push_back(*t);
    }
    Status written = store_->Write(tuples);
    if (!written.ok()) Fail("relationships", written.message());
    written = WriteAttributeTexts(*store_, StringList(doc["attributes"]));
    if (!written.ok()) Fail("attributes", written.message());

    const YAML::Node scenarios = doc["scenarios"];
    if (scenarios && scenarios.IsSequence()) {
      for (const auto& scenario : scenarios) RunScenario(scenario);
    }
  }

  bool failed() const { return failures_ > 0; }

 private:
  // Counts every assertion of the file under one heading; returns how many.
  int CountAll(const YAML::Node& doc, int Totals::*field) {
    int n = 0;
    const YAML::Node scenarios = doc["scenarios"];
    if (!scenarios || !scenarios.IsSequence()) return 0;
    for (const auto& s : scenarios) {
      for (const char* kind : {"checks", "entity_filters", "subject_filters"}) {
        const YAML::Node list = s[kind];
        if (!list || !list.IsSequence()) continue;
        for (const auto& item : list) {
          const YAML::Node a = item["assertions"];
          if (a && a.IsMap()) n += static_cast<int>(a.size());
        }
      }
    }
    totals_.*field += n;
    return n;
  }

  void Fail(const std::string& where, const std::string& detail) {
    ++failures_;
    std::printf("  FAIL %s [%s]: %s\n", name_.c_str(), where.c_str(), detail.c_str());
  }

  // Returns the store to evaluate against: the file's, or a copy with contextual tuples.
  const MemoryTupleStore* StoreFor(const Context& ctx, std::unique_ptr<MemoryTupleStore>& copy,
                                   const std::string& where) {
    if (ctx.tuples.empty() && ctx.attributes.empty()) return store_.get();
    copy = store_->Clone();
    std::vector<Tuple> extra;
    for (const std::string& text : ctx.tuples) {
      auto t = ParseTuple(text);
      if (!t.ok()) {
        Fail(where, "contextual tuple: " + t.status().message());
        continue;
      }
      extra.push_back(*t);
    }
    Status s = copy->Write(extra);
    if (!s.ok()) Fail(where, "contextual tuples: " + s.message());
    s = WriteAttributeTexts(*copy, ctx.attributes);
    if (!s.ok()) Fail(where, "contextual attributes: " + s.message());
    return copy.get();
  }

  bool Listed(const std::string& where, const std::string& permission) {
    const Deviation* d = FindDeviation(name_, permission);
    if (d == nullptr) return false;
    ++totals_.listed;
    std::printf("  LISTED %s [%s %s]: %s\n", name_.c_str(), where.c_str(), permission.c_str(),
                d->reason);
    return true;
  }

  void Record(bool ok, const std::string& where, const std::string& detail) {
    if (ok) {
      ++totals_.passed;
      if (verbose_) std::printf("    ok %s\n", where.c_str());
    } else {
      ++totals_.failed;
      Fail(where, detail);
    }
  }

  void RunScenario(const YAML::Node& scenario) {
    const std::string sname = scenario["name"] ? scenario["name"].as<std::string>() : "";
    if (const YAML::Node checks = scenario["checks"]; checks && checks.IsSequence()) {
      for (const auto& c : checks) RunCheck(sname, c);
    }
    if (const YAML::Node f = scenario["entity_filters"]; f && f.IsSequence()) {
      for (const auto& e : f) RunEntityFilter(sname, e);
    }
    if (const YAML::Node f = scenario["subject_filters"]; f && f.IsSequence()) {
      for (const auto& e : f) RunSubjectFilter(sname, e);
    }
  }

  static int Depth(const YAML::Node& n) {
    const int depth = n["depth"] ? n["depth"].as<int>() : 0;
    return depth > 0 ? depth : 100;
  }

  void RunCheck(const std::string& scenario, const YAML::Node& c) {
    const std::string entity_text = c["entity"].as<std::string>();
    const std::string subject_text = c["subject"].as<std::string>();
    const std::string where = scenario + ": check " + entity_text + " for " + subject_text;
    const Context ctx = ReadContext(c["context"]);
    const YAML::Node assertions = c["assertions"];
    if (!assertions || !assertions.IsMap()) return;
    std::unique_ptr<MemoryTupleStore> copy;
    const MemoryTupleStore* store = StoreFor(ctx, copy, where);
    Engine engine(*store);
    auto entity = ParseEntity(entity_text);
    auto subject = ParseSubject(subject_text);
    for (const auto& kv : assertions) {
      const std::string permission = kv.first.as<std::string>();
      if (Listed(where, permission)) continue;
      if (!entity.ok() || !subject.ok()) {
        Record(false, where + " " + permission,
               !entity.ok() ? entity.status().message() : subject.status().message());
        continue;
      }
      const bool expected = !kv.second.IsNull() && kv.second.as<bool>();
      CheckRequest req;
      req.entity_type = entity->first;
      req.entity_id = entity->second;
      req.permission = permission;
      req.subject_type = subject->type;
      req.subject_id = subject->id;
      req.subject_relation = subject->relation;
      req.depth = Depth(c);
      req.context = &ctx.data;
      auto got = engine.Check(req);
      if (!got.ok()) {
        Record(false, where + " " + permission, "error: " + got.status().message());
      } else {
        Record(*got == expected, where + " " + permission,
               "expected " + std::string(expected ? "true" : "false") + ", got " +
                   (*got ? "true" : "false"));
      }
    }
  }

  void RunEntityFilter(const std::string& scenario, const YAML::Node& f) {
    const std::string type = f["entity_type"].as<std::string>();
    const std::string subject_text = f["subject"].as<std::string>();
    const std::string where = scenario + ": entity filter " + type + " for " + subject_text;
    const Context ctx = ReadContext(f["context"]);
    const YAML::Node assertions = f["assertions"];
    if (!assertions || !assertions.IsMap()) return;
    std::unique_ptr<MemoryTupleStore> copy;
    const MemoryTupleStore* store = StoreFor(ctx, copy, where);
    Engine engine(*store);
    auto subject = ParseSubject(subject_text);
    for (const auto& kv : assertions) {
      const std::string permission = kv.first.as<std::string>();
      if (Listed(where, permission)) continue;
      if (!subject.ok()) {
        Record(false, where, subject.status().message());
        continue;
      }
      std::vector<std::string> expected = StringList(kv.second);
      std::sort(expected.begin(), expected.end());
      expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
      LookupEntitiesRequest req;
      req.entity_type = type;
      req.permission = permission;
      req.subject_type = subject->type;
      req.subject_id = subject->id;
      req.subject_relation = subject->relation;
      req.depth = Depth(f);
      req.context = &ctx.data;
      auto got = engine.LookupEntities(req);
      if (!got.ok()) {
        Record(false, where + " " + permission, "error: " + got.status().message());
      } else {
        Record(*got == expected, where + " " + permission,
               "expected " + Join(expected) + ", got " + Join(*got));
      }
    }
  }

  void RunSubjectFilter(const std::string& scenario, const YAML::Node& f) {
    const std::string reference = f["subject_reference"].as<std::string>();
    const std::string entity_text = f["entity"].as<std::string>();
    const std::string where = scenario + ": subject filter " + reference + " on " + entity_text;
    const Context ctx = ReadContext(f["context"]);
    const YAML::Node assertions = f["assertions"];
    if (!assertions || !assertions.IsMap()) return;
    std::unique_ptr<MemoryTupleStore> copy;
    const MemoryTupleStore* store = StoreFor(ctx, copy, where);
    Engine engine(*store);
    auto entity = ParseEntity(entity_text);
    std::string subject_type = reference, subject_relation;
    if (auto hash = reference.find('#'); hash != std::string::npos) {
      subject_type = reference.substr(0, hash);
      subject_relation = reference.substr(hash + 1);
    }
    for (const auto& kv : assertions) {
      const std::string permission = kv.first.as<std::string>();
      if (Listed(where, permission)) continue;
      if (!entity.ok()) {
        Record(false, where, entity.status().message());
        continue;
      }
      std::vector<std::string> expected = StringList(kv.second);
      std::sort(expected.begin(), expected.end());
      expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
      LookupSubjectsRequest req;
      req.entity_type = entity->first;
      req.entity_id = entity->second;
      req.permission = permission;
      req.subject_type = subject_type;
      req.subject_relation = subject_relation;
      req.depth = Depth(f);
      req.context = &ctx.data;
      auto got = engine.LookupSubjects(req);
      if (!got.ok()) {
        Record(false, where + " " + permission, "error: " + got.status().message());
      } else {
        Record(*got == expected, where + " " + permission,
               "expected " + Join(expected) + ", got " + Join(*got));
      }
    }
  }

  std::string name_;
  bool verbose_;
  Totals& totals_;
  std::unique_ptr<MemoryTupleStore> store_;
  int failures_ = 0;
};

std::vector<fs::path> ValidationFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() &&
        (e.path().extension() == ".yaml" || e.path().extension() == ".yml")) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

int RunValidation(const fs::path& dir, bool verbose) {
  Totals totals;
  std::printf("Permify validation files under %s\n", dir.c_str());
  for (const fs::path& p : ValidationFiles(dir)) {
    const std::string name = fs::relative(p, dir).string();
    ++totals.files;
    FileRun run(name, verbose, totals);
    try {
      run.Run(YAML::LoadFile(p.string()));
    } catch (const std::exception& e) {
      std::printf("  FAIL %s: the file could not be read as a validation file: %s\n", name.c_str(),
                  e.what());
      ++totals.files_failed;
      continue;
    }
    if (run.failed()) {
      ++totals.files_failed;
    } else {
      ++totals.files_passed;
      if (verbose) std::printf("  pass %s\n", name.c_str());
    }
  }
  std::printf(
      "files: %d (passed %d, with failures %d; %d use attributes or rules)\n"
      "assertions: passed %d, failed %d, unsupported 0, listed deviations %d\n",
      totals.files, totals.files_passed, totals.files_failed, totals.files_abac, totals.passed,
      totals.failed, totals.listed);
  return totals.failed == 0 && totals.files_failed == 0 ? 0 : 1;
}

int RunDslCases(const fs::path& dir, bool verbose) {
  const fs::path file = dir / "dsl-cases" / "dsl_cases.json";
  int passed = 0, failed = 0;
  try {
    const YAML::Node doc = YAML::LoadFile(file.string());
    for (const auto& c : doc["cases"]) {
      const std::string id = c["id"].as<std::string>();
      const std::string stage = c["stage"].as<std::string>();
      const std::string schema = c["schema"].as<std::string>();
      const bool want_ok = c["expected"].as<std::string>() == "ok";
      const std::string permify_error = c["expected_error"] && !c["expected_error"].IsNull()
                                            ? c["expected_error"].as<std::string>()
                                            : "";
      Status got;
      if (stage == "parse") {
        auto ast = ParseSchema(schema);
        if (!ast.ok()) got = ast.status();
      } else {
        auto s = LoadSchema(schema);
        if (!s.ok()) got = s.status();
      }
      const bool ok = got.ok() == want_ok;
      if (ok) {
        ++passed;
        if (verbose) {
          std::printf("  ok %s (%s, %s)%s%s\n", id.c_str(), stage.c_str(), want_ok ? "ok" : "error",
                      want_ok ? "" : "\n     permify: ",
                      want_ok ? "" : (permify_error + "\n     strato:  " + got.message()).c_str());
        }
      } else {
        ++failed;
        std::printf("  FAIL %s (%s): expected %s, got %s\n", id.c_str(), stage.c_str(),
                    want_ok ? "ok" : ("error \"" + permify_error + "\"").c_str(),
                    got.ok() ? "ok" : ("error \"" + got.message() + "\"").c_str());
      }
    }
  } catch (const std::exception& e) {
    std::printf("FAIL: %s could not be read: %s\n", file.c_str(), e.what());
    return 1;
  }
  std::printf("dsl cases: passed %d, failed %d\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

int ExportSchemas(const fs::path& dir, const fs::path& out) {
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) {
    std::printf("cannot create %s: %s\n", out.c_str(), ec.message().c_str());
    return 1;
  }
  int n = 0;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(out / name, std::ios::binary) << text;
    ++n;
  };
  write("strato.perm", ReadFile(STRATO_PERM_FILE));
  try {
    for (const fs::path& p : ValidationFiles(dir)) {
      const YAML::Node doc = YAML::LoadFile(p.string());
      if (doc["schema"]) write(p.stem().string() + ".perm", doc["schema"].as<std::string>());
    }
    const YAML::Node cases = YAML::LoadFile((dir / "dsl-cases" / "dsl_cases.json").string());
    for (const auto& c : cases["cases"]) {
      write(c["id"].as<std::string>() + ".perm", c["schema"].as<std::string>());
    }
  } catch (const std::exception& e) {
    std::printf("reading the conformance files failed: %s\n", e.what());
    return 1;
  }
  std::printf("wrote %d schemas to %s\n", n, out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = STRATO_PERMIFY_DIR;
  bool validation = false, dsl = false, verbose = false;
  std::string export_dir;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--validation") {
      validation = true;
    } else if (a == "--dsl-cases") {
      dsl = true;
    } else if (a == "--verbose" || a == "-v") {
      verbose = true;
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--export-schemas" && i + 1 < argc) {
      export_dir = argv[++i];
    } else {
      std::printf(
          "usage: permify_conformance [--validation] [--dsl-cases] [--verbose] [--dir DIR]\n"
          "       permify_conformance --export-schemas OUT_DIR\n");
      return 2;
    }
  }
  if (!export_dir.empty()) return ExportSchemas(dir, export_dir);
  if (!validation && !dsl) validation = dsl = true;
  int rc = 0;
  if (validation) rc |= RunValidation(dir, verbose);
  if (dsl) rc |= RunDslCases(dir, verbose);
  return rc;
}
