#include "test/fakes/ch_simulator/vmm_model.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <utility>

namespace strato::fakes {
namespace {

constexpr std::string_view kApiRoot = "/api/v1";
constexpr long long kDefaultMemory = 512LL * 1024 * 1024;  // the real VMM's default

// The messages below are the Display texts of the real VMM's errors (HttpError, ApiError,
// vm::Error), so a client sees the same chains from the simulator as from the real server.
constexpr const char* kFromApi = "Error from API";

SimReply Error(int status, std::vector<std::string> chain) {
  return SimReply{status, ErrorChainJson(chain)};
}

SimReply NoContent() {
  return SimReply{204, ""};
}

const char* TypeName(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return v.GetBool() ? "boolean `true`" : "boolean `false`";
  if (v.IsString()) return "string";
  if (v.IsArray()) return "sequence";
  if (v.IsObject()) return "map";
  if (v.IsInt64() && v.GetInt64() < 0) return "integer";
  if (v.IsNumber() && !v.IsUint64()) return "floating point";
  return "integer";
}

// Checks the parts of a VmConfig that serde would reject when deserializing, and fills the
// defaults the real VMM reports back in vm.info. Returns the error message, or empty.
std::string CheckAndFillConfig(rapidjson::Document& doc) {
  auto& a = doc.GetAllocator();
  if (!doc.IsObject()) {
    return std::string("invalid type: ") + TypeName(doc) + ", expected struct VmConfig";
  }
  auto uint_field = [](const rapidjson::Value& obj, const char* name, const char* type,
                       bool required) -> std::string {
    auto it = obj.FindMember(name);
    if (it == obj.MemberEnd()) {
      return required ? std::string("missing field `") + name + "`" : std::string();
    }
    if (!it->value.IsUint64()) {
      return std::string("invalid type: ") + TypeName(it->value) + ", expected " + type;
    }
    return {};
  };

  auto cpus = doc.FindMember("cpus");
  if (cpus == doc.MemberEnd()) {
    rapidjson::Value c(rapidjson::kObjectType);
    c.AddMember("boot_vcpus", 1, a);
    c.AddMember("max_vcpus", 1, a);
    doc.AddMember("cpus", c, a);
  } else {
    if (!cpus->value.IsObject()) {
      return std::string("invalid type: ") + TypeName(cpus->value) + ", expected struct CpusConfig";
    }
    for (const char* f : {"boot_vcpus", "max_vcpus"}) {
      std::string e = uint_field(cpus->value, f, "u32", true);
      if (!e.empty()) return e;
    }
  }

  auto memory = doc.FindMember("memory");
  if (memory == doc.MemberEnd()) {
    rapidjson::Value m(rapidjson::kObjectType);
    m.AddMember("size", static_cast<int64_t>(kDefaultMemory), a);
    doc.AddMember("memory", m, a);
  } else {
    if (!memory->value.IsObject()) {
      return std::string("invalid type: ") + TypeName(memory->value) +
             ", expected struct MemoryConfig";
    }
    std::string e = uint_field(memory->value, "size", "u64", true);
    if (!e.empty()) return e;
  }

  auto payload = doc.FindMember("payload");
  if (payload != doc.MemberEnd() && !payload->value.IsObject() && !payload->value.IsNull()) {
    return std::string("invalid type: ") + TypeName(payload->value) +
           ", expected struct PayloadConfig";
  }
  if (payload != doc.MemberEnd() && payload->value.IsObject()) {
    for (const auto& m : payload->value.GetObject()) {
      if (!m.value.IsString()) {
        return std::string("invalid type: ") + TypeName(m.value) + ", expected a string";
      }
    }
  }
  for (const char* list : {"disks", "net", "fs", "pmem", "devices", "vdpa"}) {
    auto it = doc.FindMember(list);
    if (it != doc.MemberEnd() && !it->value.IsArray() && !it->value.IsNull()) {
      return std::string("invalid type: ") + TypeName(it->value) + ", expected a sequence";
    }
    if (it != doc.MemberEnd() && it->value.IsArray()) {
      for (const auto& item : it->value.GetArray()) {
        if (!item.IsObject()) {
          return std::string("invalid type: ") + TypeName(item) + ", expected a struct";
        }
      }
    }
  }
  return {};
}

std::string Compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  v.Accept(w);
  return std::string(out.GetString(), out.GetSize());
}

}  // namespace

std::string ErrorChainJson(const std::vector<std::string>& chain) {
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  w.StartArray();
  for (const std::string& s : chain) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  w.EndArray();
  return std::string(out.GetString(), out.GetSize());
}

SimulatedVmm::SimulatedVmm(Options options) : options_(options) {}

std::vector<SimRoute> SimulatedVmm::Routes() {
  return {
      {"GET", "/vmm.ping"},  {"PUT", "/vmm.shutdown"},    {"GET", "/vm.info"},
      {"PUT", "/vm.create"}, {"PUT", "/vm.delete"},       {"PUT", "/vm.boot"},
      {"PUT", "/vm.pause"},  {"PUT", "/vm.resume"},       {"PUT", "/vm.shutdown"},
      {"PUT", "/vm.reboot"}, {"PUT", "/vm.power-button"},
  };
}

std::vector<SimRoute> SimulatedVmm::UnsimulatedRoutes() {
  return {
      {"GET", "/vm.counters"},
      {"PUT", "/vm.resize"},
      {"PUT", "/vm.resize-disk"},
      {"PUT", "/vm.resize-zone"},
      {"PUT", "/vm.add-device"},
      {"PUT", "/vm.remove-device"},
      {"PUT", "/vm.add-disk"},
      {"PUT", "/vm.add-fs"},
      {"PUT", "/vm.add-generic-vhost-user"},
      {"PUT", "/vm.add-pmem"},
      {"PUT", "/vm.add-net"},
      {"PUT", "/vm.add-vsock"},
      {"PUT", "/vm.add-vdpa"},
      {"PUT", "/vm.add-user-device"},
      {"PUT", "/vm.snapshot"},
      {"PUT", "/vm.coredump"},
      {"PUT", "/vm.nmi"},
      {"PUT", "/vm.restore"},
      {"PUT", "/vm.receive-migration"},
      {"PUT", "/vm.send-migration"},
  };
}

std::string SimulatedVmm::StateName() const {
  if (!has_config_) return "NotCreated";
  switch (vm_) {
    case VmState::kNone:
      return "Created";
    case VmState::kRunning:
      return "Running";
    case VmState::kPaused:
      return "Paused";
  }
  return "Created";
}

SimReply SimulatedVmm::Handle(std::string_view method, std::string_view path, bool has_body,
                              std::string_view body, SimAfter* after) {
  *after = SimAfter::kNothing;
  if (path.substr(0, kApiRoot.size()) != kApiRoot) return Error(404, {"Not Found"});
  std::string_view endpoint = path.substr(kApiRoot.size());

  const SimRoute* route = nullptr;
  static const std::vector<SimRoute> routes = Routes();
  for (const SimRoute& r : routes) {
    if (r.path == endpoint) route = &r;
  }
  if (route == nullptr) {
    static const std::vector<SimRoute> unsimulated = UnsimulatedRoutes();
    for (const SimRoute& r : unsimulated) {
      if (r.path == endpoint) {
        if (method != r.method) return Error(400, {"Bad Request"});
        return Error(500, {kFromApi, "The Cloud Hypervisor simulator does not implement " +
                                         std::string(endpoint) + " (it runs no guest)"});
      }
    }
    return Error(404, {"Not Found"});
  }

  // The real server: the action endpoints (boot, pause, ...) answer a method other than GET or
  // PUT with a bare 400, GET with 400 "Bad Request"; the others answer any wrong method with
  // 400 "Bad Request".
  if (method != route->method) {
    bool action = endpoint != "/vmm.ping" && endpoint != "/vmm.shutdown" &&
                  endpoint != "/vm.info" && endpoint != "/vm.create";
    if (action && method != "GET" && method != "PUT") return SimReply{400, ""};
    return Error(400, {"Bad Request"});
  }

  if (endpoint == "/vmm.ping") return VmmPing();
  if (endpoint == "/vm.info") return VmInfo();
  if (endpoint == "/vm.create") return VmCreate(has_body, body);
  if (endpoint == "/vmm.shutdown") {
    // Deleting the VM cannot fail here; the real VMM answers 200 (the spec says 204).
    VmDelete();
    *after = SimAfter::kExitVmm;
    return SimReply{200, ""};
  }
  // The remaining actions take no body: the real server refuses one with 400.
  if (has_body) return Error(400, {"Bad Request"});
  if (endpoint == "/vm.boot") return VmBoot();
  if (endpoint == "/vm.shutdown") return VmShutdown();
  if (endpoint == "/vm.reboot") return VmReboot();
  if (endpoint == "/vm.pause") return VmPause();
  if (endpoint == "/vm.resume") return VmResume();
  if (endpoint == "/vm.delete") return VmDelete();
  if (endpoint == "/vm.power-button") {
    SimReply reply = VmPowerButton();
    if (reply.status == 204) {
      *after = options_.ignore_power_button ? SimAfter::kButtonIgnored : SimAfter::kGuestPoweroff;
    }
    return reply;
  }
  return Error(404, {"Not Found"});
}

SimReply SimulatedVmm::VmmPing() const {
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  w.StartObject();
  w.Key("build_version");
  w.String("simulator");
  w.Key("version");
  w.String("0.0.0-simulator");
  w.Key("pid");
  w.Int64(options_.pid);
  w.Key("features");
  w.StartArray();
  w.EndArray();
  w.EndObject();
  return SimReply{200, std::string(out.GetString(), out.GetSize())};
}

SimReply SimulatedVmm::VmCreate(bool has_body, std::string_view body) {
  if (!has_body) return SimReply{400, ""};  // the real server: a bare 400
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    return Error(400, {"Failed to deserialize JSON",
                       std::string(rapidjson::GetParseError_En(doc.GetParseError())) + " at byte " +
                           std::to_string(doc.GetErrorOffset())});
  }
  std::string problem = CheckAndFillConfig(doc);
  if (!problem.empty()) return Error(400, {"Failed to deserialize JSON", problem});
  if (has_config_)
    return Error(500, {kFromApi, "The VM could not be created", "VM is already created"});

  has_config_ = true;
  config_json_ = Compact(doc);
  memory_size_ = static_cast<long long>(doc["memory"]["size"].GetUint64());
  bootable_ = false;
  auto payload = doc.FindMember("payload");
  if (payload != doc.MemberEnd() && payload->value.IsObject()) {
    for (const char* item : {"kernel", "firmware", "igvm"}) {
      if (payload->value.HasMember(item)) bootable_ = true;
    }
  }
  return NoContent();
}

SimReply SimulatedVmm::VmBoot() {
  if (vm_ != VmState::kNone) {
    return Error(500, {kFromApi, "The VM could not boot", "VM is already created"});
  }
  if (!has_config_) return Error(404, {kFromApi, "The VM could not boot", "VM config is missing"});
  if (!bootable_) {
    return Error(400, {kFromApi, "The VM could not boot", "Failed to validate config",
                       "Payload configuration is not bootable",
                       "No bootitem provided: neither firmware nor kernel"});
  }
  vm_ = VmState::kRunning;
  return NoContent();
}

SimReply SimulatedVmm::VmShutdown() {
  // The real VMM drops the VM object and keeps the config, so vm.info says "Created" afterwards
  // and vm.boot starts it again.
  if (vm_ == VmState::kNone) {
    return Error(500, {kFromApi, "The VM could not shutdown", "VM is not running"});
  }
  vm_ = VmState::kNone;
  return NoContent();
}

SimReply SimulatedVmm::VmReboot() {
  if (vm_ == VmState::kNone) {
    return Error(404, {kFromApi, "The VM could not reboot", "VM is not created"});
  }
  vm_ = VmState::kRunning;
  return NoContent();
}

SimReply SimulatedVmm::VmPause() {
  if (vm_ == VmState::kNone) {
    return Error(500, {kFromApi, "The VM could not be paused", "VM is not running"});
  }
  if (vm_ == VmState::kPaused) {
    return Error(500, {kFromApi, "The VM could not be paused", "Cannot pause VM",
                       "Failed to pause migratable component",
                       "Invalid transition: InvalidStateTransition(Paused, Paused)"});
  }
  vm_ = VmState::kPaused;
  return NoContent();
}

SimReply SimulatedVmm::VmResume() {
  if (vm_ == VmState::kNone) {
    return Error(500, {kFromApi, "The VM could not resume", "VM is not running"});
  }
  if (vm_ == VmState::kRunning) {
    return Error(500, {kFromApi, "The VM could not resume", "Cannot resume VM",
                       "Failed to resume migratable component",
                       "Invalid transition: InvalidStateTransition(Running, Running)"});
  }
  vm_ = VmState::kRunning;
  return NoContent();
}

SimReply SimulatedVmm::VmDelete() {
  vm_ = VmState::kNone;
  has_config_ = false;
  config_json_.clear();
  config_json_.shrink_to_fit();
  bootable_ = false;
  return NoContent();
}

SimReply SimulatedVmm::VmPowerButton() {
  if (vm_ == VmState::kNone) {
    return Error(500, {kFromApi, "Error triggering power button", "VM is not running"});
  }
  return NoContent();
}

bool SimulatedVmm::GuestShutdown() {
  if (options_.no_shutdown) {
    vm_ = VmState::kNone;
    return false;
  }
  VmDelete();
  return true;
}

SimReply SimulatedVmm::VmInfo() const {
  if (!has_config_) {
    return Error(404, {kFromApi, "The VM info is not available", "VM is not created"});
  }
  std::string body;
  body.reserve(config_json_.size() + 96);
  body += "{\"config\":";
  body += config_json_;
  body += ",\"state\":\"";
  body += StateName();
  body += "\",\"memory_actual_size\":";
  body += std::to_string(memory_size_);
  // The real VMM has a device tree once the VM is built (after boot); the simulator has no
  // devices, so it reports an empty one.
  body += vm_ == VmState::kNone ? ",\"device_tree\":null}" : ",\"device_tree\":{}}";
  return SimReply{200, std::move(body)};
}

std::string SimulatedVmm::CreateAndBoot(const std::string& config_json) {
  SimReply created = VmCreate(true, config_json);
  if (created.status >= 300) return created.body;
  SimReply booted = VmBoot();
  if (booted.status >= 300) return booted.body;
  return {};
}

}  // namespace strato::fakes
