// QemuDriver: the Hypervisor (hypervisor.h) for QEMU, one qemu-system-x86_64 process per VM,
// driven over QMP (qmp_client.h) on a unix socket in the VM's state folder.
//
// QEMU takes the whole machine on its command line and is started paused before boot (-S):
// that is "created, not booted", so Create only checks, Boot is `cont`, Pause `stop`, Resume
// `cont`, Reboot `system_reset`, PowerButton `system_powerdown`, Shutdown `stop` (the guest gets
// no say), ShutdownVmm `quit`, Info `query-status` (with `query-cpus-fast` and
// `query-memory-size-summary`). A guest that powers off ends its QEMU (no -no-shutdown).
//
// Thread-safe: each call opens its own QMP session (QEMU serves one at a time) and keeps no
// per-VM state; the version sits behind a mutex.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hostd/hypervisor/hypervisor.h"
#include "hostd/hypervisor/qmp_client.h"

namespace strato::hostd {

struct QemuOptions {
  std::string binary = "qemu-system-x86_64";
  std::string machine = "q35";  // -machine
  std::string accel = "tcg";    // -accel: "tcg" or "kvm" (ChooseAccelerator decides)
  // The version `<binary> --version` reported ("7.2.19"); empty: learned from QMP's greeting.
  std::string version;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds call_timeout{30000};
  // A graceful stop presses the power button again this often (a press during boot is lost).
  std::chrono::milliseconds power_button_repeat{3000};
};

class QemuDriver : public Hypervisor {
 public:
  explicit QemuDriver(QemuOptions options = {});

  // "qemu", or "qemu <version>".
  std::string Kind() const override;
  // {binary, -nodefaults, -no-user-config, -display none, -S, -machine, -accel, -smp, -m,
  //  [-kernel, -initrd, -append | -bios], virtio disks (the seed read-only), the serial to
  //  spec.serial_path, -qmp unix:<socket_path>,server=on,wait=off, -pidfile}. Commas in paths
  // are doubled, as QEMU's option syntax wants.
  std::vector<std::string> VmmCommandLine(const std::string& socket_path,
                                          const VmSpec& spec) const override;
  // The socket of "-qmp unix:<path>,..." when argv[0] is a qemu-system binary.
  std::optional<std::string> SocketFromCommandLine(
      const std::vector<std::string>& argv) const override;
  bool MachineOnCommandLine() const override { return true; }
  std::chrono::milliseconds PowerButtonRepeat() const override {
    return options_.power_button_repeat;
  }

  Status Ping(const std::string& socket_path) override;
  // Checks the spec can boot (a kernel or firmware, cpus >= 1, memory >= 1 MiB); the machine
  // itself was given on the command line.
  Status Create(const std::string& socket_path, const VmSpec& spec) override;
  // `cont` from "prelaunch"; from a guest that is off (shutdown, panicked) `system_reset` first.
  Status Boot(const std::string& socket_path) override;
  Status Shutdown(const std::string& socket_path) override;
  Status PowerButton(const std::string& socket_path) override;
  Status Reboot(const std::string& socket_path) override;
  Status Pause(const std::string& socket_path) override;
  Status Resume(const std::string& socket_path) override;
  // QEMU cannot drop its machine: kFailedPrecondition (hostd starts a new process instead).
  Status Delete(const std::string& socket_path) override;
  // state: "Created" (prelaunch), "Running", "Paused" (paused, suspended, migrating, ...),
  // "Shutdown" (shutdown, guest-panicked, internal-error).
  Result<VmInfo> Info(const std::string& socket_path) override;
  Status ShutdownVmm(const std::string& socket_path) override;

  // QEMU's run state word (query-status "status") as a VmInfo state.
  static std::string StateFromQemu(std::string_view status);

 private:
  // One QMP command in its own session; errors name the command and the socket.
  Result<std::string> Run(const std::string& socket_path, std::string_view command,
                          std::string_view arguments = "");
  Result<std::string> QueryStatus(const std::string& socket_path);
  // A session on the VM's QMP socket with the run state word QEMU gives now ("prelaunch",
  // "running", "paused", ...), for calls that act only in some states.
  struct Session {
    QmpClient client;
    std::string status;
  };
  Result<Session> Open(const std::string& socket_path);

  QemuOptions options_;
  mutable std::mutex mu_;
  std::string version_;  // guarded by mu_
};

// `<binary> --version`'s version ("QEMU emulator version 7.2.19 (Debian ...)" -> "7.2.19"), run
// without a shell; kUnavailable when it cannot run, kInternal when it says something else.
Result<std::string> QemuBinaryVersion(const std::string& binary);

// The accelerator to run guests with, and why.
struct AccelChoice {
  std::string accel;  // "kvm" or "tcg"
  std::string why;    // a sentence for the log
};

struct AccelProbe {
  std::string mode = "auto";  // "auto", "kvm" (forced), "tcg" (forced)
  std::string binary = "qemu-system-x86_64";
  std::string kernel_path;  // the probe guest; without one, auto chooses tcg
  std::string initrd_path;
  std::chrono::milliseconds timeout{5000};
};

// "kvm" when forced, "tcg" when forced; in "auto", "kvm" only when a probe guest boots under
// KVM within the timeout (its serial console shows "strato-guest: booting", or the kernel
// running /init), never because /dev/kvm exists; otherwise "tcg". Blocks up to the timeout.
AccelChoice ChooseAccelerator(const AccelProbe& probe);

}  // namespace strato::hostd
