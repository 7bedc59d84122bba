// Conformance of the driver and the simulator with Cloud Hypervisor's OpenAPI spec
// (test/conformance/cloud-hypervisor/cloud-hypervisor.yaml), read with yaml-cpp.
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <vector>

#include "hostd/hypervisor/ch_driver.h"
#include "test/fakes/ch_simulator/vmm_model.h"
#include "test/hostd/hypervisor/sim_process.h"

using namespace strato;
using namespace strato::hostd;
using strato::fakes::SimRoute;
using strato::fakes::SimulatedVmm;

namespace {

const YAML::Node& Spec() {
  static const YAML::Node spec =
      YAML::LoadFile(strato::hypervisor_test::ConformanceDir() + "/cloud-hypervisor.yaml");
  return spec;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool SpecHas(std::string_view method, std::string_view path) {
  YAML::Node p = Spec()["paths"][std::string(path)];
  return p && p.IsMap() && p[Lower(method)];
}

YAML::Node Resolve(YAML::Node schema) {
  for (int depth = 0; depth < 8 && schema["$ref"]; ++depth) {
    std::string ref = schema["$ref"].as<std::string>();
    const std::string prefix = "#/components/schemas/";
    REQUIRE_MESSAGE(ref.rfind(prefix, 0) == 0, "unexpected $ref " << ref);
    schema = Spec()["components"]["schemas"][ref.substr(prefix.size())];
    REQUIRE_MESSAGE(schema, "the spec has no schema " << ref);
  }
  return schema;
}

// Checks `value` against `schema` recursively: required properties present, no property the
// schema does not define, types and enums as declared. A JSON null stands for an absent
// optional value (serde's None), as the real server sends it. Appends problems to `problems`.
void Check(const rapidjson::Value& value, YAML::Node schema, const std::string& where,
           std::vector<std::string>* problems) {
  schema = Resolve(schema);
  if (value.IsNull()) return;
  std::string type = schema["type"] ? schema["type"].as<std::string>() : "";
  if (schema["enum"]) {
    bool found = false;
    for (const auto& e : schema["enum"]) {
      if (value.IsString() && e.as<std::string>() == value.GetString()) found = true;
    }
    if (!found) problems->push_back(where + " is not one of the enum's values");
    return;
  }
  if (type == "object" || (type.empty() && schema["properties"])) {
    if (!value.IsObject()) {
      problems->push_back(where + " should be an object");
      return;
    }
    if (schema["required"]) {
      for (const auto& r : schema["required"]) {
        if (!value.HasMember(r.as<std::string>().c_str())) {
          problems->push_back(where + " lacks the required property " + r.as<std::string>());
        }
      }
    }
    YAML::Node props = schema["properties"];
    YAML::Node additional = schema["additionalProperties"];
    for (const auto& m : value.GetObject()) {
      std::string name = m.name.GetString();
      if (props && props[name]) {
        Check(m.value, props[name], where + "." + name, problems);
      } else if (additional && additional.IsMap()) {
        Check(m.value, additional, where + "." + name, problems);
      } else {
        problems->push_back(where + " has " + name + ", which the spec does not define");
      }
    }
    return;
  }
  if (type == "array") {
    if (!value.IsArray()) {
      problems->push_back(where + " should be an array");
      return;
    }
    for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
      Check(value[i], schema["items"], where + "[" + std::to_string(i) + "]", problems);
    }
    return;
  }
  if (type == "string" && !value.IsString()) problems->push_back(where + " should be a string");
  if (type == "integer" && !value.IsInt64() && !value.IsUint64()) {
    problems->push_back(where + " should be an integer");
  }
  if (type == "boolean" && !value.IsBool()) problems->push_back(where + " should be a boolean");
  if (type == "integer" && schema["minimum"] && value.IsInt64() &&
      value.GetInt64() < schema["minimum"].as<int64_t>()) {
    problems->push_back(where + " is below the spec's minimum");
  }
}

std::vector<std::string> Validate(const std::string& json, const std::string& schema_name) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  REQUIRE_MESSAGE(!doc.HasParseError(), "not JSON: " << json);
  YAML::Node schema = Spec()["components"]["schemas"][schema_name];
  REQUIRE(schema);
  std::vector<std::string> problems;
  Check(doc, schema, schema_name, &problems);
  return problems;
}

VmSpec Everything() {
  VmSpec spec;
  spec.vm_id = "vm-1";
  spec.cpus = 4;
  spec.memory_mb = 2048;
  spec.kernel_path = "/vmlinux";
  spec.cmdline = "console=ttyS0";
  spec.disk_paths = {"/root.raw", "/data.raw"};
  spec.tap_name = "tap0";
  spec.mac = "52:54:00:00:00:01";
  spec.serial_path = "/serial.log";
  return spec;
}

}  // namespace

TEST_CASE("the spec is the Cloud Hypervisor API with its 31 paths") {
  CHECK(Spec()["info"]["title"].as<std::string>() == "Cloud Hypervisor API");
  CHECK(Spec()["servers"][0]["url"].as<std::string>() == "http://localhost/api/v1");
  CHECK(Spec()["paths"].size() == 31);
}

TEST_CASE("every endpoint the driver calls exists in the spec with its method") {
  std::vector<CloudHypervisorDriver::Endpoint> endpoints = CloudHypervisorDriver::Endpoints();
  CHECK(endpoints.size() == 11);
  bool power_button = false;
  for (const auto& e : endpoints) power_button |= e.method == "PUT" && e.path == "/vm.power-button";
  CHECK(power_button);  // graceful stops
  for (const auto& e : endpoints) {
    CAPTURE(e.method);
    CAPTURE(e.path);
    CHECK(SpecHas(e.method, e.path));
  }
}

TEST_CASE("the driver's VmConfig has every required property and only the spec's properties") {
  std::vector<VmSpec> specs;
  specs.push_back(Everything());
  VmSpec firmware;
  firmware.vm_id = "vm-2";
  firmware.firmware_path = "/hypervisor-fw";
  specs.push_back(firmware);
  for (const VmSpec& spec : specs) {
    Result<std::string> json = CloudHypervisorDriver::BuildVmConfigJson(spec);
    REQUIRE(json.ok());
    CAPTURE(*json);
    std::vector<std::string> problems = Validate(*json, "VmConfig");
    for (const std::string& p : problems) FAIL_CHECK(p);
    CHECK(problems.empty());
  }
}

TEST_CASE("the schema check catches a missing required property and an unknown one") {
  // Guards the check above against passing vacuously.
  auto missing = Validate(R"({"cpus":{"boot_vcpus":1},"payload":{}})", "VmConfig");
  REQUIRE(missing.size() == 1);
  CHECK(missing[0] == "VmConfig.cpus lacks the required property max_vcpus");
  auto unknown = Validate(R"({"payload":{"kernal":"/k"}})", "VmConfig");
  REQUIRE(unknown.size() == 1);
  CHECK(unknown[0] == "VmConfig.payload has kernal, which the spec does not define");
  auto no_payload = Validate(R"({"serial":{"mode":"Loud"}})", "VmConfig");
  CHECK(no_payload.size() == 2);
}

TEST_CASE("every route the simulator serves exists in the spec and it knows every spec path") {
  std::set<std::string> known;
  for (const SimRoute& r : SimulatedVmm::Routes()) {
    CAPTURE(r.path);
    CHECK(SpecHas(r.method, r.path));
    known.insert(std::string(r.path));
  }
  for (const SimRoute& r : SimulatedVmm::UnsimulatedRoutes()) {
    CAPTURE(r.path);
    CHECK(SpecHas(r.method, r.path));
    known.insert(std::string(r.path));
  }
  for (const auto& p : Spec()["paths"]) {
    CAPTURE(p.first.as<std::string>());
    CHECK(known.count(p.first.as<std::string>()) == 1);
  }
  for (const auto& e : CloudHypervisorDriver::Endpoints()) {
    bool served = false;
    for (const SimRoute& r : SimulatedVmm::Routes()) {
      if (r.path == e.path && r.method == e.method) served = true;
    }
    CAPTURE(e.path);
    CHECK(served);
  }
}

TEST_CASE("the simulator's vm.info and vmm.ping bodies match the spec's schemas") {
  SimulatedVmm vmm({});
  strato::fakes::SimAfter after;
  Result<std::string> config = CloudHypervisorDriver::BuildVmConfigJson(Everything());
  REQUIRE(config.ok());
  REQUIRE(vmm.Handle("PUT", "/api/v1/vm.create", true, *config, &after).status == 204);
  for (int booted = 0; booted < 2; ++booted) {
    auto info = vmm.Handle("GET", "/api/v1/vm.info", false, "", &after);
    REQUIRE(info.status == 200);
    CAPTURE(info.body);
    CHECK(Validate(info.body, "VmInfo").empty());
    if (booted == 0) REQUIRE(vmm.Handle("PUT", "/api/v1/vm.boot", false, "", &after).status == 204);
  }
  auto ping = vmm.Handle("GET", "/api/v1/vmm.ping", false, "", &after);
  CAPTURE(ping.body);
  CHECK(Validate(ping.body, "VmmPingResponse").empty());
}

TEST_CASE("the simulator's success codes are the spec's except where the real server differs") {
  SimulatedVmm vmm({});
  strato::fakes::SimAfter after;
  auto spec_codes = [](std::string_view method, std::string_view path) {
    std::set<int> codes;
    for (const auto& r : Spec()["paths"][std::string(path)][Lower(method)]["responses"]) {
      codes.insert(r.first.as<int>());
    }
    return codes;
  };
  Result<std::string> config = CloudHypervisorDriver::BuildVmConfigJson(Everything());
  REQUIRE(config.ok());
  struct Step {
    std::string_view method, path;
    std::string body;
  };
  const Step steps[] = {
      {"GET", "/vmm.ping", ""},  {"PUT", "/vm.create", *config}, {"GET", "/vm.info", ""},
      {"PUT", "/vm.boot", ""},   {"PUT", "/vm.pause", ""},       {"PUT", "/vm.resume", ""},
      {"PUT", "/vm.reboot", ""}, {"PUT", "/vm.shutdown", ""},    {"PUT", "/vm.delete", ""},
  };
  for (const Step& s : steps) {
    CAPTURE(s.path);
    auto reply =
        vmm.Handle(s.method, "/api/v1" + std::string(s.path), !s.body.empty(), s.body, &after);
    CHECK(spec_codes(s.method, s.path).count(reply.status) == 1);
  }
  // ENDPOINTS.md: vmm.shutdown answers 200 where the spec says 204.
  CHECK(spec_codes("PUT", "/vmm.shutdown") == std::set<int>{204});
  CHECK(vmm.Handle("PUT", "/api/v1/vmm.shutdown", false, "", &after).status == 200);
}
