// Hypervisor: what hostd needs from a hypervisor, behind an interface: Cloud Hypervisor
// (ch_driver.h) and QEMU (qemu_driver.h).
//
// One VMM process per VM, each serving an API on its own unix socket (Cloud Hypervisor's REST
// API, QEMU's QMP). hostd starts and supervises the VMM processes itself (libuv process handles,
// so an exit is noticed at once); a driver only says how to start one (VmmCommandLine), how to
// recognise one an earlier hostd left running (SocketFromCommandLine), and talks to a running
// one over its socket. A VMM started for a VM holds it "created, not booted" until Boot: Cloud
// Hypervisor after vm.create, QEMU from its start (-S, the machine is on its command line, and
// Create only checks). Calls block (with timeouts): hostd runs them off its loop
// (uv_queue_work), never on it. A driver object is thread-safe; calls on one VM are serialized
// by hostd, calls on different VMs may run at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
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
  std::string initrd_path;              // initramfs (with kernel_path); empty: none
  std::string cmdline;                  // kernel command line (with kernel_path)
  std::vector<std::string> disk_paths;  // raw images; the first is the root disk
  std::string seed_path;                // the NoCloud seed, attached read-only; empty: none
  std::string tap_name;                 // empty: no network device
  std::string mac;                      // empty: the VMM picks one
  std::string serial_path;              // file for the serial console output; empty: none
  std::string pid_path;                 // where a VMM that writes its pid puts it (QEMU)
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

  // "cloud-hypervisor" or "qemu", with the version the binary reports when known.
  virtual std::string Kind() const = 0;

  // argv (argv[0] = the binary) that starts one VMM for `spec` serving its API on
  // `socket_path`. Cloud Hypervisor ignores `spec` (it comes with Create); QEMU takes the whole
  // machine from it and starts it paused before boot.
  virtual std::vector<std::string> VmmCommandLine(const std::string& socket_path,
                                                  const VmSpec& spec) const = 0;
  // The API socket named by `argv` (a process's command line) when it is a VMM this driver
  // starts; nullopt otherwise. hostd finds the VMMs an earlier hostd left running this way.
  virtual std::optional<std::string> SocketFromCommandLine(
      const std::vector<std::string>& argv) const = 0;
  // True when the machine (CPUs, memory, disks) is fixed on the VMM's command line: Create
  // only checks, and a VMM holding another configuration must be started again.
  virtual bool MachineOnCommandLine() const { return false; }
  // How often a graceful stop presses the power button again while it waits for the guest
  // (QEMU loses a press that comes while the guest boots); zero: once.
  virtual std::chrono::milliseconds PowerButtonRepeat() const {
    return std::chrono::milliseconds(0);
  }

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
