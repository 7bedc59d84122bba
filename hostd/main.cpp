// strato-hostd: the host daemon. Reads its configuration from the environment (hostd/config.h),
// then runs the daemon (hostd/daemon.h) until SIGTERM. Bad configuration stops it with a
// sentence naming the variable (exit status 2).
//
// `strato-hostd nats-config` instead writes a nats-server configuration giving the control
// plane and this host their NATS users (hostd/nats_permissions.h), for an operator or
// ./ops/run to start nats-server with. Passwords come from the environment (not the command
// line, which any local user can read) and go only into the file, created with mode 0600.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/config.h"
#include "core/log.h"
#include "hostd/config.h"
#include "hostd/daemon.h"
#include "hostd/hypervisor/ch_driver.h"
#include "hostd/hypervisor/qemu_driver.h"
#include "hostd/hypervisor/subprocess.h"
#include "hostd/nats_permissions.h"

namespace {

const char kNatsConfigUsage[] =
    "usage: strato-hostd nats-config --listen <host:port> --store <dir> --out <file>\n"
    "environment: STRATO_NATS_CONTROL_USER, STRATO_NATS_CONTROL_PASSWORD (strato serve's user),\n"
    "  STRATO_HOST_ID, STRATO_NATS_USER, STRATO_NATS_PASSWORD (this host's user)\n"
    "Writes a nats-server configuration (listen address, JetStream store, one user for the\n"
    "control plane and one for the host, limited to its own subjects) to <file>, mode 0600.\n";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

int NatsConfig(int argc, char** argv) {
  std::string listen, store, out;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    std::string* target = a == "--listen"  ? &listen
                          : a == "--store" ? &store
                          : a == "--out"   ? &out
                                           : nullptr;
    if (target == nullptr || i + 1 >= argc) {
      std::fprintf(stderr, "strato-hostd nats-config: unexpected \"%s\"\n%s", argv[i],
                   kNatsConfigUsage);
      return 2;
    }
    *target = argv[++i];
  }
  if (listen.empty() || store.empty() || out.empty()) {
    std::fprintf(stderr, "%s", kNatsConfigUsage);
    return 2;
  }
  strato::hostd::NatsPermissionsSpec spec;
  spec.control_plane = {Env("STRATO_NATS_CONTROL_USER"), Env("STRATO_NATS_CONTROL_PASSWORD")};
  spec.hosts = {{Env("STRATO_HOST_ID"), {Env("STRATO_NATS_USER"), Env("STRATO_NATS_PASSWORD")}}};
  auto conf = strato::hostd::NatsServerConfig(spec, listen, store);
  if (!conf.ok()) {
    std::fprintf(stderr, "strato-hostd nats-config: %s\n", conf.status().message().c_str());
    return 2;
  }
  int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  // An existing file keeps its mode through O_CREAT: make sure it is the owner's only.
  if (fd < 0 || fchmod(fd, 0600) != 0) {
    std::fprintf(stderr, "strato-hostd nats-config: cannot write %s: %s\n", out.c_str(),
                 std::strerror(errno));
    if (fd >= 0) close(fd);
    return 1;
  }
  size_t done = 0;
  while (done < conf->size()) {
    ssize_t n = write(fd, conf->data() + done, conf->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::fprintf(stderr, "strato-hostd nats-config: cannot write %s: %s\n", out.c_str(),
                   std::strerror(errno));
      close(fd);
      return 1;
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd) != 0) {
    std::fprintf(stderr, "strato-hostd nats-config: cannot write %s\n", out.c_str());
    return 1;
  }
  return 0;
}

// What `cloud-hypervisor --version` says ("cloud-hypervisor v41.0.0"; the simulator:
// "cloud-hypervisor-simulator 0.0.0-simulator (...)"): the version word (as vmm.ping says it), and
// whether it is the simulator. Nothing when the binary does not answer (it is not needed to
// start: a missing binary fails at the first VMM spawn, as before).
struct ChBinary {
  std::string version;
  bool simulator = false;
};

ChBinary ReadChBinary(const std::string& binary) {
  ChBinary out;
  auto run = strato::hostd::RunCommand({binary, "--version"}, std::chrono::seconds(10));
  if (!run.ok() || run->exit_status != 0) {
    strato::log::Warn("Cloud Hypervisor did not say its version",
                      {{"binary", binary},
                       {"error", run.ok() ? run->output.substr(0, 200) : run.status().message()}});
    return out;
  }
  std::string first = run->output.substr(0, run->output.find('\n'));
  out.simulator = first.find("simulator") != std::string::npos;
  size_t b = first.find(' ');
  if (b == std::string::npos) return out;
  size_t e = first.find(' ', b + 1);
  std::string word = first.substr(b + 1, e == std::string::npos ? std::string::npos : e - b - 1);
  // What the host protocol and the domain accept: 1 to 64 printable ASCII characters.
  bool ok = !word.empty() && word.size() <= 64;
  for (char c : word) ok = ok && c > 0x20 && c < 0x7F;
  if (ok) out.version = word;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "nats-config") return NatsConfig(argc, argv);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "strato-hostd — the Strato host daemon\n\n"
          "environment: NATS_URL, STRATO_STATE_DIR, STRATO_HOST_ID (or STRATO_HOST_NAME),\n"
          "  STRATO_HOSTD_HYPERVISOR (cloud-hypervisor|qemu), STRATO_HOSTD_ACCEL (auto|kvm|tcg),\n"
          "  STRATO_CH_BINARY, STRATO_QEMU_BINARY, STRATO_HOST_CPUS, STRATO_HOST_MEMORY_MB,\n"
          "  STRATO_HOST_DISK_GB, STRATO_HOST_ADDRESS, STRATO_VM_KERNEL, STRATO_VM_INITRD,\n"
          "  STRATO_VM_CMDLINE,\n"
          "  STRATO_HOSTD_CPU_ALLOCATION_RATIO (default 4), STRATO_HOSTD_MEMORY_ALLOCATION_RATIO\n"
          "  (default 1), STRATO_HEARTBEAT_INTERVAL_MS, STRATO_RESYNC_INTERVAL_MS, "
          "STRATO_STOP_TIMEOUT_SECONDS,\n"
          "  STRATO_NATS_USER, STRATO_NATS_PASSWORD\n\n%s",
          kNatsConfigUsage);
      return 0;
    }
    std::fprintf(stderr, "strato-hostd: unknown argument \"%s\" (see --help)\n", argv[i]);
    return 2;
  }
  // Everything hostd and its VMMs (which inherit the mask) create — state files, VMM and
  // serial logs, sockets — is the owner's only; the folders are made 0700 explicitly too.
  umask(0077);
  strato::ProcessEnv env;
  auto config = strato::hostd::ReadHostdConfig(env);
  if (!config.ok()) {
    std::fprintf(stderr, "strato-hostd: %s\n", config.status().message().c_str());
    return 2;
  }
  strato::Status s;
  if (config->hypervisor == "qemu") {
    strato::hostd::QemuOptions options;
    options.binary = config->qemu_binary;
    auto version = strato::hostd::QemuBinaryVersion(config->qemu_binary);
    if (!version.ok()) {
      std::fprintf(stderr, "strato-hostd: STRATO_HOSTD_HYPERVISOR=qemu: %s\n",
                   version.status().message().c_str());
      return 2;
    }
    options.version = *version;
    // Never KVM because /dev/kvm exists: only when a probe guest boots under it (or forced).
    strato::hostd::AccelProbe probe;
    probe.mode = config->accel;
    probe.binary = config->qemu_binary;
    probe.kernel_path = config->kernel_path;
    probe.initrd_path = config->initrd_path;
    strato::hostd::AccelChoice accel = strato::hostd::ChooseAccelerator(probe);
    strato::log::Info("chose the accelerator",
                      {{"accel", accel.accel}, {"why", accel.why}, {"qemu", *version}});
    options.accel = accel.accel;
    config->accelerator = accel.accel;  // registered with the host
    config->hypervisor_version = *version;
    strato::hostd::QemuDriver driver(options);
    s = strato::hostd::RunDaemon(*config, driver);
  } else {
    strato::hostd::CloudHypervisorOptions options;
    options.binary = config->ch_binary;
    // Cloud Hypervisor runs guests under KVM only; its simulator runs none, so it says no
    // accelerator. The version registered until a VMM's vmm.ping tells the driver its own.
    ChBinary ch = ReadChBinary(config->ch_binary);
    config->accelerator = ch.simulator ? "" : "kvm";
    config->hypervisor_version = ch.version;
    strato::log::Info("Cloud Hypervisor",
                      {{"binary", config->ch_binary},
                       {"version", ch.version.empty() ? "unknown" : ch.version},
                       {"accel", ch.simulator ? "none (the simulator)" : "kvm"}});
    strato::hostd::CloudHypervisorDriver driver(options);
    s = strato::hostd::RunDaemon(*config, driver);
  }
  if (!s.ok()) {
    std::fprintf(stderr, "strato-hostd: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
