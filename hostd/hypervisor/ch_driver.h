// CloudHypervisorDriver: the Hypervisor (hypervisor.h) for Cloud Hypervisor, one VMM process per
// VM, each driven over the REST API on its own unix socket (unix_http_client.h).
//
// Thread-safe: each call opens its own connection and keeps no per-VM state; the only shared
// state (the version learned from vmm.ping, for Kind()) sits behind a mutex. The driver owns
// nothing outside itself: hostd owns the VMM processes and their sockets.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hostd/hypervisor/hypervisor.h"
#include "hostd/hypervisor/unix_http_client.h"

namespace strato::hostd {

struct CloudHypervisorOptions {
  // The cloud-hypervisor binary (hostd passes $STRATO_CH_BINARY; tests pass the simulator).
  std::string binary = "cloud-hypervisor";
  // Appended to VmmCommandLine after --api-socket, e.g. {"-v"} or {"--log-file", "/x.log"}.
  std::vector<std::string> extra_args;
  std::chrono::milliseconds connect_timeout{2000};
  // For one API call once connected. vm.boot and vm.shutdown of a real guest can take seconds.
  std::chrono::milliseconds call_timeout{30000};
};

class CloudHypervisorDriver : public Hypervisor {
 public:
  explicit CloudHypervisorDriver(CloudHypervisorOptions options = {});

  // One API endpoint the driver calls: method and path relative to the server URL
  // (http://localhost/api/v1), as the OpenAPI spec writes them ("/vm.create").
  struct Endpoint {
    std::string_view method;
    std::string_view path;
  };
  // Every endpoint this driver calls (checked against the OpenAPI spec by a test).
  static std::vector<Endpoint> Endpoints();

  // The VmConfig body sent to vm.create (compact JSON). Fails with kInvalidArgument for a spec
  // the VMM could not boot (no payload, fewer than 1 CPU or 1 MiB).
  static Result<std::string> BuildVmConfigJson(const VmSpec& spec);

  // "cloud-hypervisor", or "cloud-hypervisor <version>" once a vmm.ping has reported it.
  std::string Kind() const override;
  // {binary, "--api-socket", "path=<socket_path>", extra_args...}
  std::vector<std::string> VmmCommandLine(const std::string& socket_path) const;
  // The same: the VM's spec comes with Create (vm.create).
  std::vector<std::string> VmmCommandLine(const std::string& socket_path,
                                          const VmSpec&) const override {
    return VmmCommandLine(socket_path);
  }
  // The path after "--api-socket" ("path=<p>" or "<p>", options after a ',' dropped).
  std::optional<std::string> SocketFromCommandLine(
      const std::vector<std::string>& argv) const override {
    for (size_t i = 0; i + 1 < argv.size(); ++i) {
      if (argv[i] != "--api-socket") continue;
      std::string path = argv[i + 1].rfind("path=", 0) == 0 ? argv[i + 1].substr(5) : argv[i + 1];
      return path.substr(0, path.find(','));
    }
    return std::nullopt;
  }

  Status Ping(const std::string& socket_path) override;
  Status Create(const std::string& socket_path, const VmSpec& spec) override;
  Status Boot(const std::string& socket_path) override;
  Status Shutdown(const std::string& socket_path) override;
  Status PowerButton(const std::string& socket_path) override;
  Status Reboot(const std::string& socket_path) override;
  Status Pause(const std::string& socket_path) override;
  Status Resume(const std::string& socket_path) override;
  Status Delete(const std::string& socket_path) override;
  Result<VmInfo> Info(const std::string& socket_path) override;
  Status ShutdownVmm(const std::string& socket_path) override;

 private:
  // Sends one call; returns the response whatever its status, or the transport's error with
  // the call named.
  Result<HttpResponse> Call(const std::string& socket_path, std::string_view method,
                            std::string_view endpoint, std::string_view body);
  // A call expecting 2xx; non-2xx becomes a Status as hypervisor.h describes.
  Status Action(const std::string& socket_path, std::string_view method, std::string_view endpoint,
                std::string_view body = {});

  CloudHypervisorOptions options_;
  mutable std::mutex mu_;
  std::string version_;  // guarded by mu_
};

// Turns a non-2xx response to `endpoint` into a Status (exposed for tests): kInvalidArgument for
// 400; kFailedPrecondition for 404/405/500 carrying the VMM's error chain (a JSON array whose
// first entry is "Error from API"); kInternal otherwise. The message names the call and ends
// with the body verbatim.
Status StatusFromResponse(std::string_view endpoint, const std::string& socket_path,
                          const HttpResponse& response);

}  // namespace strato::hostd
