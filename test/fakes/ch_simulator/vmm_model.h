// SimulatedVmm: the state machine and API semantics of one Cloud Hypervisor VMM, without any
// guest, sockets or processes (main.cpp serves it on the API socket). It answers each API
// request with the status code, headers and JSON body the real server sends, including where the
// real server differs from the OpenAPI spec (500 for "not running", 200 for vmm.shutdown, 404 for
// an unknown path, 400 for a wrong method or a bad JSON body).
//
// Not thread-safe: the simulator is single-threaded. Owns its stored VmConfig; nothing else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace strato::fakes {

struct SimRoute {
  std::string_view method;  // GET or PUT
  std::string_view path;    // relative to /api/v1, as in the OpenAPI spec: "/vm.boot"
};

struct SimReply {
  int status = 204;
  std::string body;  // JSON; empty for no body (then no Content-Type / Content-Length either)
};

// What the caller must do after sending the reply.
enum class SimAfter {
  kNothing,
  kExitVmm,        // vmm.shutdown: the VMM deletes its VM and exits 0
  kGuestPoweroff,  // vm.power-button: the guest shuts down (see GuestShutdown)
  kButtonIgnored,  // vm.power-button with --ignore-power-button: the guest does nothing
};

class SimulatedVmm {
 public:
  struct Options {
    bool no_shutdown = false;  // --no-shutdown: a guest shutdown keeps the VMM running
    // --ignore-power-button: vm.power-button is accepted (204) but the guest does nothing, as
    // a guest without ACPI support or one that is hung would (to test stop fallbacks).
    bool ignore_power_button = false;
    int pid = 0;  // reported by vmm.ping
  };
  explicit SimulatedVmm(Options options);

  // Routes served with their real behaviour.
  static std::vector<SimRoute> Routes();
  // Paths the real API has that the simulator knows but does not simulate: they answer 500 with
  // an error chain saying so (never 404, which would claim the path does not exist).
  static std::vector<SimRoute> UnsimulatedRoutes();

  // Handles one request. `path` is the request target's absolute path ("/api/v1/vm.boot");
  // `has_body` is false when the request had no body (Content-Length absent or 0).
  SimReply Handle(std::string_view method, std::string_view path, bool has_body,
                  std::string_view body, SimAfter* after);

  // Creates and boots from a VmConfig given as JSON (the command line's payload path).
  // Returns the error chain as JSON when that fails, else empty.
  std::string CreateAndBoot(const std::string& config_json);

  // The guest powered itself off: the VM is dropped; returns true when the VMM should exit (it
  // does unless --no-shutdown).
  bool GuestShutdown();

  // "NotCreated", "Created", "Running" or "Paused".
  std::string StateName() const;

 private:
  enum class VmState { kNone, kRunning, kPaused };

  SimReply VmCreate(bool has_body, std::string_view body);
  SimReply VmBoot();
  SimReply VmShutdown();
  SimReply VmReboot();
  SimReply VmPause();
  SimReply VmResume();
  SimReply VmDelete();
  SimReply VmInfo() const;
  SimReply VmmPing() const;
  SimReply VmPowerButton();

  Options options_;
  bool has_config_ = false;
  std::string config_json_;  // stored config with defaults filled in (compact JSON)
  long long memory_size_ = 0;
  bool bootable_ = false;  // the payload names a kernel, firmware or igvm
  VmState vm_ = VmState::kNone;
};

// The JSON error array for a chain of messages, top-level error first.
std::string ErrorChainJson(const std::vector<std::string>& chain);

}  // namespace strato::fakes
