// hostd's configuration, read from the environment (core/config.h's Env) once at start-up:
// the bus, the host's identity, its state folder, the VMM binary, its capacity (detected from
// the machine unless overridden) and its timings. A bad value is a Status whose sentence names
// the variable. Plain values; ReadHostdConfig touches the state folder (the stable id file).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/config.h"
#include "core/status.h"
#include "hostd/reconcile.h"

namespace strato::hostd {

struct HostdConfig {
  std::string nats_url;        // NATS_URL
  std::string host_id;         // STRATO_HOST_ID, or kept in <state>/host-id for a name
  std::string host_name;       // STRATO_HOST_NAME, else the machine's hostname
  std::string address;         // STRATO_HOST_ADDRESS, else the host name
  std::string state_dir;       // STRATO_STATE_DIR (created if missing)
  std::string hypervisor;      // STRATO_HOSTD_HYPERVISOR: "cloud-hypervisor" (default) or "qemu"
  std::string accel;           // STRATO_HOSTD_ACCEL: "auto" (default), "kvm" or "tcg" (QEMU)
  std::string ch_binary;       // STRATO_CH_BINARY, default "cloud-hypervisor"
  std::string qemu_binary;     // STRATO_QEMU_BINARY, default "qemu-system-x86_64"
  std::string kernel_path;     // STRATO_VM_KERNEL, default <state>/images/vmlinux
  std::string initrd_path;     // STRATO_VM_INITRD, default none
  std::string kernel_cmdline;  // STRATO_VM_CMDLINE
  int64_t cpu_count = 0;       // STRATO_HOST_CPUS, else detected
  int64_t memory_mb = 0;       // STRATO_HOST_MEMORY_MB, else detected
  int64_t disk_gb = 0;         // STRATO_HOST_DISK_GB, else the state folder's file system
  // Overcommit the scheduler may use on this host, N:1 (registered with the host): vCPUs per
  // physical CPU and MiB of guest memory per MiB.
  int64_t cpu_allocation_ratio = 4;     // STRATO_HOSTD_CPU_ALLOCATION_RATIO, 1 to 64
  int64_t memory_allocation_ratio = 1;  // STRATO_HOSTD_MEMORY_ALLOCATION_RATIO, 1 to 16
  // Not read from the environment: what main.cpp learns at start and registration says.
  std::string accelerator;         // "kvm" or "tcg"; "" when nothing runs guests (simulator)
  std::string hypervisor_version;  // the binary's --version, when the driver does not say it
  std::chrono::milliseconds heartbeat_interval{3000};  // STRATO_HEARTBEAT_INTERVAL_MS
  std::chrono::milliseconds resync_interval{30000};    // STRATO_RESYNC_INTERVAL_MS
  // How long a graceful stop waits for the guest to power off after the power button before it
  // stops it by force; 0: every stop is forced.
  std::chrono::milliseconds stop_timeout{30000};  // STRATO_STOP_TIMEOUT_SECONDS
  std::string nats_user;                          // STRATO_NATS_USER (optional)
  std::string nats_password;                      // STRATO_NATS_PASSWORD (optional)

  std::string vms_dir() const { return state_dir + "/vms"; }
  // What every VM boots; QEMU hosts give each VM its NoCloud seed.
  GuestPayload payload() const {
    return {kernel_path, initrd_path, kernel_cmdline, hypervisor == "qemu"};
  }
};

Result<HostdConfig> ReadHostdConfig(const Env& env);

// The machine's logical CPUs, memory in MiB and the free-or-used size of the file system
// holding `path` in GiB.
int64_t DetectCpus();
int64_t DetectMemoryMb();
int64_t DetectDiskGb(const std::string& path);

// Creates `path` and any missing parent with mode 0700, and sets `path` itself to 0700 when it
// existed with another mode: hostd's state folders (the state folder, vms/, each VM's folder
// with its disk and logs) are its own only. Internal with a sentence when it cannot.
Status MakePrivateDirs(const std::string& path);

}  // namespace strato::hostd
