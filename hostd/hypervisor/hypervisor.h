// Hypervisor: what hostd needs from a hypervisor, behind an interface so that other
// hypervisors can be added beside Cloud Hypervisor (ch_driver.h).
//
// The model is Cloud Hypervisor's: one VMM process per VM, each serving an API on its own unix
// socket. hostd starts and supervises the VMM processes itself (libuv process handles, so an
// exit is noticed at once); a driver only says how to start one (VmmCommandLine) and talks to
// a running one over its socket. Calls block (with timeouts): hostd runs them off its loop
// (uv_queue_work), never on it. A driver object is thread-safe; calls on one VM are serialized
// by hostd, calls on different VMs may run at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace strato::hostd {

// What a VM should look like, built by hostd from the VM's spec in the desired state.
struct VmSpec {
  std::string vm_id;
  int cpus = 1;
  int64_t memory_mb = 512;
  std::string kernel_path;              // payload: kernel or firmware (one of them)
  std::string firmware_path;            //
  std::string cmdline;                  // kernel command line (with kernel_path)
  std::vector<std::string> disk_paths;  // first is the root disk
  std::string tap_name;                 // empty: no network device
  std::string mac;                      // empty: the VMM picks one
  std::string serial_path;              // file for the serial console output; empty: none
};

// What the VMM reports (vm.info). `state` is the VMM's own word: "Created", "Running",
// "Shutdown", "Paused", "BreakPoint"; "NotCreated" when the VMM has no VM (404 on vm.info).
struct VmInfo {
  std::string state;
  int cpus = 0;
  int64_t memory_bytes = 0;
};

class Hypervisor {
 public:
  virtual ~Hypervisor() = default;

  // "cloud-hypervisor", with the version the binary reports when known.
  virtual std::string Kind() const = 0;

  // argv (argv[0] = the binary) that starts one VMM serving its API on `socket_path`.
  virtual std::vector<std::string> VmmCommandLine(const std::string& socket_path) const = 0;

  // Each returns Ok, or a Status whose message is a sentence naming the call and ending with
  // the VMM's error body verbatim (its JSON array of strings), so it can become the VM's last
  // error. Status codes: kUnavailable when the socket cannot be reached,
  // kFailedPrecondition when the VMM refuses because of the VM's state (404/405/500 with an error
  // chain), kInvalidArgument for a 400, kInternal otherwise.
  virtual Status Ping(const std::string& socket_path) = 0;
  virtual Status Create(const std::string& socket_path, const VmSpec& spec) = 0;
  virtual Status Boot(const std::string& socket_path) = 0;
  // Stops the guest at once (the VMM drops the VM; the guest gets no say).
  virtual Status Shutdown(const std::string& socket_path) = 0;
  // Presses the guest's ACPI power button: a guest that listens shuts down by itself, and then
  // the VMM exits with status 0 (unless started with --no-shutdown, when it keeps running
  // without a VM). Ok only says the press was delivered; it does not wait for the guest.
  // kFailedPrecondition when the VM is not running.
  virtual Status PowerButton(const std::string& socket_path) = 0;
  virtual Status Reboot(const std::string& socket_path) = 0;
  virtual Status Pause(const std::string& socket_path) = 0;
  virtual Status Resume(const std::string& socket_path) = 0;
  virtual Status Delete(const std::string& socket_path) = 0;
  virtual Result<VmInfo> Info(const std::string& socket_path) = 0;
  // Asks the VMM process to exit (it deletes its VM first).
  virtual Status ShutdownVmm(const std::string& socket_path) = 0;
};

}  // namespace strato::hostd
