#include "hostd/hypervisor/ch_driver.h"

#include <rapidjson/document.h>

#include <utility>

#include "core/json_writer.h"

namespace strato::hostd {
namespace {

constexpr std::string_view kApiRoot = "/api/v1";
constexpr int64_t kMiB = 1024 * 1024;

// Every endpoint the driver calls, in one table so the conformance test sees the same list.
constexpr CloudHypervisorDriver::Endpoint kEndpoints[] = {
    {"GET", "/vmm.ping"},     {"PUT", "/vm.create"},       {"PUT", "/vm.boot"},
    {"PUT", "/vm.shutdown"},  {"PUT", "/vm.reboot"},       {"PUT", "/vm.pause"},
    {"PUT", "/vm.resume"},    {"GET", "/vm.info"},         {"PUT", "/vm.delete"},
    {"PUT", "/vmm.shutdown"}, {"PUT", "/vm.power-button"},
};

// True when `body` is the VMM's error chain: a JSON array of strings, the first being the
// "Error from API" that the API server puts on top of every refusal by the VMM (as opposed to
// its own "Not Found" / "Bad Request" for a path or method it does not know).
bool IsApiErrorChain(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsArray() || doc.Empty()) return false;
  for (const auto& v : doc.GetArray()) {
    if (!v.IsString()) return false;
  }
  return std::string_view(doc[0].GetString(), doc[0].GetStringLength()) == "Error from API";
}

}  // namespace

Status StatusFromResponse(std::string_view endpoint, const std::string& socket_path,
                          const HttpResponse& response) {
  std::string message = "Cloud Hypervisor refused " + std::string(endpoint) + " on " + socket_path +
                        " (HTTP " + std::to_string(response.status) + ")";
  if (response.body.empty()) {
    message += " without an error body.";
  } else {
    message += ": " + response.body;
  }
  if (response.status == 400) return Status::InvalidArgument(std::move(message));
  if ((response.status == 404 || response.status == 405 || response.status == 500) &&
      IsApiErrorChain(response.body)) {
    return Status::FailedPrecondition(std::move(message));
  }
  return Status::Internal(std::move(message));
}

CloudHypervisorDriver::CloudHypervisorDriver(CloudHypervisorOptions options)
    : options_(std::move(options)) {}

std::vector<CloudHypervisorDriver::Endpoint> CloudHypervisorDriver::Endpoints() {
  return {std::begin(kEndpoints), std::end(kEndpoints)};
}

Result<std::string> CloudHypervisorDriver::BuildVmConfigJson(const VmSpec& spec) {
  if (spec.cpus < 1) {
    return Status::InvalidArgument("VM " + spec.vm_id + " asks for " + std::to_string(spec.cpus) +
                                   " CPUs; it needs at least one.");
  }
  if (spec.memory_mb < 1) {
    return Status::InvalidArgument("VM " + spec.vm_id + " asks for " +
                                   std::to_string(spec.memory_mb) +
                                   " MiB of memory; it needs at least 1 MiB.");
  }
  if (spec.kernel_path.empty() && spec.firmware_path.empty()) {
    return Status::InvalidArgument("VM " + spec.vm_id +
                                   " has neither a kernel nor a firmware to boot.");
  }

  JsonWriter w;
  w.BeginObject();
  w.Key("cpus").BeginObject().Int("boot_vcpus", spec.cpus).Int("max_vcpus", spec.cpus).EndObject();
  w.Key("memory").BeginObject().Int("size", spec.memory_mb * kMiB).EndObject();

  w.Key("payload").BeginObject();
  if (!spec.kernel_path.empty()) w.Str("kernel", spec.kernel_path);
  if (!spec.firmware_path.empty()) w.Str("firmware", spec.firmware_path);
  if (!spec.cmdline.empty()) w.Str("cmdline", spec.cmdline);
  w.EndObject();

  if (!spec.disk_paths.empty()) {
    w.Key("disks").BeginArray();
    for (const std::string& path : spec.disk_paths) w.BeginObject().Str("path", path).EndObject();
    w.EndArray();
  }

  if (!spec.tap_name.empty()) {
    w.Key("net").BeginArray().BeginObject().Str("tap", spec.tap_name);
    if (!spec.mac.empty()) w.Str("mac", spec.mac);
    w.EndObject().EndArray();
  }

  w.Key("serial").BeginObject();
  if (spec.serial_path.empty()) {
    w.Str("mode", "Null");
  } else {
    w.Str("mode", "File").Str("file", spec.serial_path);
  }
  w.EndObject();

  w.Key("console").BeginObject().Str("mode", "Off").EndObject();
  w.EndObject();
  return w.Text();
}

std::string CloudHypervisorDriver::Kind() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (version_.empty()) return "cloud-hypervisor";
  return "cloud-hypervisor " + version_;
}

std::vector<std::string> CloudHypervisorDriver::VmmCommandLine(
    const std::string& socket_path) const {
  std::vector<std::string> argv = {options_.binary, "--api-socket", "path=" + socket_path};
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  return argv;
}

Result<HttpResponse> CloudHypervisorDriver::Call(const std::string& socket_path,
                                                 std::string_view method, std::string_view endpoint,
                                                 std::string_view body) {
  UnixHttpOptions http;
  http.connect_timeout = options_.connect_timeout;
  http.timeout = options_.call_timeout;
  std::string target = std::string(kApiRoot) + "/" + std::string(endpoint);
  Result<HttpResponse> response = UnixHttpRequest(socket_path, method, target, body, http);
  if (!response.ok()) {
    const Status& s = response.status();
    return Status(s.code(),
                  "Cannot call Cloud Hypervisor's " + std::string(endpoint) + ": " + s.message());
  }
  return response;
}

Status CloudHypervisorDriver::Action(const std::string& socket_path, std::string_view method,
                                     std::string_view endpoint, std::string_view body) {
  Result<HttpResponse> response = Call(socket_path, method, endpoint, body);
  if (!response.ok()) return response.status();
  if (response->status >= 200 && response->status < 300) return Status::Ok();
  return StatusFromResponse(endpoint, socket_path, *response);
}

Status CloudHypervisorDriver::Ping(const std::string& socket_path) {
  Result<HttpResponse> response = Call(socket_path, "GET", "vmm.ping", {});
  if (!response.ok()) return response.status();
  if (response->status != 200) return StatusFromResponse("vmm.ping", socket_path, *response);
  rapidjson::Document doc;
  doc.Parse(response->body.data(), response->body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("version") ||
      !doc["version"].IsString()) {
    return Status::Internal("Cloud Hypervisor's vmm.ping on " + socket_path +
                            " answered without a version: " + response->body);
  }
  std::lock_guard<std::mutex> lock(mu_);
  version_ = doc["version"].GetString();
  return Status::Ok();
}

Status CloudHypervisorDriver::Create(const std::string& socket_path, const VmSpec& spec) {
  Result<std::string> config = BuildVmConfigJson(spec);
  if (!config.ok()) return config.status();
  return Action(socket_path, "PUT", "vm.create", *config);
}

Status CloudHypervisorDriver::Boot(const std::string& socket_path) {
  return Action(socket_path, "PUT", "vm.boot");
}

Status CloudHypervisorDriver::Shutdown(const std::string& socket_path) {
  return Action(socket_path, "PUT", "vm.shutdown");
}

Status CloudHypervisorDriver::PowerButton(const std::string& socket_path) {
  return Action(socket_path, "PUT", "vm.power-button");
}

Status CloudHypervisorDriver::Reboot(const std::string& socket_path) {
  return Action(socket_path, "PUT", "vm.reboot");
}

Status CloudHypervisorDriver::Pause(const std::string& socket_path) {
  return Action(socket_path, "PUT", "vm.pause");
}

Status CloudHypervisorDriver::Resume(const std::string& socket_path) {
  return Action(socket_path, "PUT", "vm.resume");
}

Status CloudHypervisorDriver::Delete(const std::string& socket_path) {
  return Action(socket_path, "PUT", "vm.delete");
}

Status CloudHypervisorDriver::ShutdownVmm(const std::string& socket_path) {
  return Action(socket_path, "PUT", "vmm.shutdown");
}

Result<VmInfo> CloudHypervisorDriver::Info(const std::string& socket_path) {
  Result<HttpResponse> response = Call(socket_path, "GET", "vm.info", {});
  if (!response.ok()) return response.status();
  if (response->status == 404 && IsApiErrorChain(response->body)) {
    VmInfo info;
    info.state = "NotCreated";
    return info;
  }
  if (response->status != 200) return StatusFromResponse("vm.info", socket_path, *response);

  auto malformed = [&](std::string_view what) {
    return Status::Internal("Cloud Hypervisor's vm.info on " + socket_path + " answered " +
                            std::string(what) + ": " + response->body);
  };
  rapidjson::Document doc;
  doc.Parse(response->body.data(), response->body.size());
  if (doc.HasParseError() || !doc.IsObject()) return malformed("with a body that is not an object");
  auto state = doc.FindMember("state");
  if (state == doc.MemberEnd() || !state->value.IsString()) return malformed("without a state");
  VmInfo info;
  info.state = state->value.GetString();
  auto config = doc.FindMember("config");
  if (config != doc.MemberEnd() && config->value.IsObject()) {
    auto cpus = config->value.FindMember("cpus");
    if (cpus != config->value.MemberEnd() && cpus->value.IsObject()) {
      auto boot = cpus->value.FindMember("boot_vcpus");
      if (boot != cpus->value.MemberEnd() && boot->value.IsInt()) info.cpus = boot->value.GetInt();
    }
    auto memory = config->value.FindMember("memory");
    if (memory != config->value.MemberEnd() && memory->value.IsObject()) {
      auto size = memory->value.FindMember("size");
      if (size != memory->value.MemberEnd() && size->value.IsInt64()) {
        info.memory_bytes = size->value.GetInt64();
      }
    }
  }
  auto actual = doc.FindMember("memory_actual_size");
  if (actual != doc.MemberEnd() && actual->value.IsInt64()) {
    info.memory_bytes = actual->value.GetInt64();
  }
  return info;
}

}  // namespace strato::hostd
