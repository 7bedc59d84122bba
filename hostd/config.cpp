#include "hostd/config.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/domain/host.h"
#include "core/ids.h"
#include "events/hosts/host_protocol.h"

namespace strato::hostd {
namespace {

std::string Hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

// A host name as the domain accepts it: letters, digits, '-', '_' and '.'.
bool NameOk(const std::string& n) {
  if (n.empty() || n.size() > 253) return false;
  for (char c : n) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

}  // namespace

Status MakePrivateDirs(const std::string& path) {
  std::string partial;
  std::stringstream ss(path);
  std::string part;
  if (!path.empty() && path[0] == '/') partial = "/";
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    partial += part + "/";
    if (mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      return Status::Internal("cannot create " + partial + ": " + std::strerror(errno));
    }
  }
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::Internal(path + " is not a folder");
  }
  if ((st.st_mode & 0777) != 0700 && chmod(path.c_str(), 0700) != 0) {
    return Status::Internal("cannot make " + path +
                            " private (mode 0700): " + std::strerror(errno));
  }
  return Status::Ok();
}

int64_t DetectCpus() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? n : 1;
}

int64_t DetectMemoryMb() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || size <= 0) return 1024;
  return static_cast<int64_t>(pages) * size / (1024 * 1024);
}

int64_t DetectDiskGb(const std::string& path) {
  struct statvfs st {};
  if (statvfs(path.c_str(), &st) != 0) return 1;
  int64_t gb = static_cast<int64_t>(st.f_blocks) * static_cast<int64_t>(st.f_frsize) /
               (1024LL * 1024 * 1024);
  return gb > 0 ? gb : 1;
}

Result<HostdConfig> ReadHostdConfig(const Env& env) {
  HostdConfig c;
  auto nats = ReadNatsUrl(env);
  if (!nats.ok()) return nats.status();
  c.nats_url = *nats;

  auto state = env.Get("STRATO_STATE_DIR");
  if (!state || state->empty()) {
    return Status::InvalidArgument(
        "STRATO_STATE_DIR is not set; it names the folder where hostd keeps its VMs' sockets, "
        "disks and logs");
  }
  if ((*state)[0] != '/') {
    return Status::InvalidArgument("STRATO_STATE_DIR must be an absolute path; got \"" + *state +
                                   "\"");
  }
  c.state_dir = *state;
  while (c.state_dir.size() > 1 && c.state_dir.back() == '/') c.state_dir.pop_back();
  for (const std::string& dir : {c.state_dir, c.vms_dir()}) {
    Status made = MakePrivateDirs(dir);
    if (!made.ok()) return Status::InvalidArgument("STRATO_STATE_DIR: " + made.message());
  }

  c.host_name = env.Get("STRATO_HOST_NAME").value_or("");
  if (c.host_name.empty()) c.host_name = Hostname();
  if (!NameOk(c.host_name)) {
    return Status::InvalidArgument(
        "STRATO_HOST_NAME must be 1 to 253 letters, digits, '-', '_' or '.'; got \"" + c.host_name +
        "\"");
  }
  auto id = env.Get("STRATO_HOST_ID");
  if (id && !id->empty()) {
    Status s = events::ValidateHostId(*id);
    if (!s.ok()) return Status::InvalidArgument("STRATO_HOST_ID: " + s.message());
    c.host_id = *id;
  } else {
    // A stable id derived once for this host and kept in the state folder.
    const std::string file = c.state_dir + "/host-id";
    std::ifstream in(file);
    std::string kept;
    if (in && std::getline(in, kept) && events::ValidateHostId(kept).ok()) {
      c.host_id = kept;
    } else {
      c.host_id = Uuid::NewV4().ToString();
      std::ofstream out(file + ".tmp", std::ios::trunc);
      out << c.host_id << "\n";
      out.close();
      if (!out || std::rename((file + ".tmp").c_str(), file.c_str()) != 0) {
        return Status::InvalidArgument("STRATO_STATE_DIR: cannot write the host id file " + file);
      }
    }
  }
  c.address = env.Get("STRATO_HOST_ADDRESS").value_or("");
  if (c.address.empty()) c.address = c.host_name;
  if (c.address.find(' ') != std::string::npos) {
    return Status::InvalidArgument("STRATO_HOST_ADDRESS must not contain spaces");
  }

  c.ch_binary = env.Get("STRATO_CH_BINARY").value_or("cloud-hypervisor");
  if (c.ch_binary.empty()) c.ch_binary = "cloud-hypervisor";
  if (c.ch_binary.find('/') != std::string::npos && access(c.ch_binary.c_str(), X_OK) != 0) {
    return Status::InvalidArgument("STRATO_CH_BINARY names " + c.ch_binary +
                                   ", which is not an executable file");
  }
  c.hypervisor = env.Get("STRATO_HOSTD_HYPERVISOR").value_or("cloud-hypervisor");
  if (c.hypervisor.empty()) c.hypervisor = "cloud-hypervisor";
  if (c.hypervisor != "cloud-hypervisor" && c.hypervisor != "qemu") {
    return Status::InvalidArgument(
        "STRATO_HOSTD_HYPERVISOR must be \"cloud-hypervisor\" or \"qemu\"; got \"" + c.hypervisor +
        "\"");
  }
  c.accel = env.Get("STRATO_HOSTD_ACCEL").value_or("auto");
  if (c.accel.empty()) c.accel = "auto";
  if (c.accel != "auto" && c.accel != "kvm" && c.accel != "tcg") {
    return Status::InvalidArgument(
        "STRATO_HOSTD_ACCEL must be \"auto\", \"kvm\" or \"tcg\"; got \"" + c.accel + "\"");
  }
  c.qemu_binary = env.Get("STRATO_QEMU_BINARY").value_or("qemu-system-x86_64");
  if (c.qemu_binary.empty()) c.qemu_binary = "qemu-system-x86_64";
  if (c.qemu_binary.find('/') != std::string::npos && access(c.qemu_binary.c_str(), X_OK) != 0) {
    return Status::InvalidArgument("STRATO_QEMU_BINARY names " + c.qemu_binary +
                                   ", which is not an executable file");
  }
  c.kernel_path = env.Get("STRATO_VM_KERNEL").value_or(c.state_dir + "/images/vmlinux");
  c.initrd_path = env.Get("STRATO_VM_INITRD").value_or("");
  c.kernel_cmdline = env.Get("STRATO_VM_CMDLINE").value_or("console=ttyS0 root=/dev/vda rw");

  auto cpus = ReadInt(env, "STRATO_HOST_CPUS", DetectCpus(), 1, 4096);
  if (!cpus.ok()) return cpus.status();
  c.cpu_count = *cpus;
  auto mem = ReadInt(env, "STRATO_HOST_MEMORY_MB", DetectMemoryMb(), 128, 64LL * 1024 * 1024);
  if (!mem.ok()) return mem.status();
  c.memory_mb = *mem;
  auto disk = ReadInt(env, "STRATO_HOST_DISK_GB", DetectDiskGb(c.state_dir), 1, 1024LL * 1024);
  if (!disk.ok()) return disk.status();
  c.disk_gb = *disk;
  auto cpu_ratio =
      ReadInt(env, "STRATO_HOSTD_CPU_ALLOCATION_RATIO", 4, 1, domain::kMaxCpuAllocationRatio);
  if (!cpu_ratio.ok()) {
    return Status::InvalidArgument(cpu_ratio.status().message() +
                                   " (the vCPUs VMs may have per physical CPU of this host: 4 "
                                   "means 4:1)");
  }
  c.cpu_allocation_ratio = *cpu_ratio;
  auto mem_ratio =
      ReadInt(env, "STRATO_HOSTD_MEMORY_ALLOCATION_RATIO", 1, 1, domain::kMaxMemoryAllocationRatio);
  if (!mem_ratio.ok()) {
    return Status::InvalidArgument(mem_ratio.status().message() +
                                   " (the guest memory VMs may have per MiB of this host's "
                                   "memory: 1 means 1:1)");
  }
  c.memory_allocation_ratio = *mem_ratio;
  auto hb = ReadInt(env, "STRATO_HEARTBEAT_INTERVAL_MS", 3000, 100, 600000);
  if (!hb.ok()) return hb.status();
  c.heartbeat_interval = std::chrono::milliseconds(*hb);
  auto rs = ReadInt(env, "STRATO_RESYNC_INTERVAL_MS", 30000, 500, 3600000);
  if (!rs.ok()) return rs.status();
  c.resync_interval = std::chrono::milliseconds(*rs);
  auto stop = ReadInt(env, "STRATO_STOP_TIMEOUT_SECONDS", 30, 0, 86400);
  if (!stop.ok()) return stop.status();
  c.stop_timeout = std::chrono::seconds(*stop);
  c.nats_user = env.Get("STRATO_NATS_USER").value_or("");
  c.nats_password = env.Get("STRATO_NATS_PASSWORD").value_or("");
  return c;
}

}  // namespace strato::hostd
