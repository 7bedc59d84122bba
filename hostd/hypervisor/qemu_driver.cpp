#include "hostd/hypervisor/qemu_driver.h"

#include <fcntl.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <regex>

#include "hostd/hypervisor/qmp_client.h"
#include "hostd/hypervisor/subprocess.h"

namespace strato::hostd {
namespace {

// QEMU's option syntax separates options with ','; a ',' inside a value is written ",,".
std::string Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The "status" of query-status's answer.
Result<std::string> StatusWord(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("status") ||
      !doc["status"].IsString()) {
    return Status::Internal("QMP query-status answered without a status: " + json);
  }
  return std::string(doc["status"].GetString());
}

}  // namespace

QemuDriver::QemuDriver(QemuOptions options) : options_(std::move(options)) {
  version_ = options_.version;
}

std::string QemuDriver::Kind() const {
  std::lock_guard<std::mutex> lock(mu_);
  return version_.empty() ? "qemu" : "qemu " + version_;
}

std::vector<std::string> QemuDriver::VmmCommandLine(const std::string& socket_path,
                                                    const VmSpec& spec) const {
  std::vector<std::string> a = {options_.binary, "-nodefaults", "-no-user-config",
                                "-display",      "none",        "-S"};
  if (!spec.vm_id.empty()) a.insert(a.end(), {"-name", Escape(spec.vm_id)});
  a.insert(a.end(), {"-machine", options_.machine, "-accel", options_.accel});
  if (options_.accel == "kvm") a.insert(a.end(), {"-cpu", "host"});
  a.insert(a.end(), {"-smp", std::to_string(spec.cpus < 1 ? 1 : spec.cpus), "-m",
                     std::to_string(spec.memory_mb) + "M"});
  if (!spec.kernel_path.empty()) {
    a.insert(a.end(), {"-kernel", spec.kernel_path});
    if (!spec.initrd_path.empty()) a.insert(a.end(), {"-initrd", spec.initrd_path});
    if (!spec.cmdline.empty()) a.insert(a.end(), {"-append", spec.cmdline});
  } else if (!spec.firmware_path.empty()) {
    a.insert(a.end(), {"-bios", spec.firmware_path});
  }
  for (size_t i = 0; i < spec.disk_paths.size(); ++i) {
    const std::string id = "disk" + std::to_string(i);
    a.insert(a.end(), {"-drive",
                       "file=" + Escape(spec.disk_paths[i]) + ",if=none,id=" + id +
                           ",format=raw,discard=unmap",
                       "-device", "virtio-blk-pci,drive=" + id});
  }
  if (!spec.seed_path.empty()) {
    a.insert(a.end(), {"-drive",
                       "file=" + Escape(spec.seed_path) + ",if=none,id=seed,format=raw,readonly=on",
                       "-device", "virtio-blk-pci,drive=seed"});
  }
  if (!spec.tap_name.empty()) {
    std::string dev = "virtio-net-pci,netdev=net0";
    if (!spec.mac.empty()) dev += ",mac=" + spec.mac;
    a.insert(a.end(),
             {"-netdev", "tap,id=net0,ifname=" + Escape(spec.tap_name) + ",script=no,downscript=no",
              "-device", dev});
  }
  if (!spec.serial_path.empty()) {
    a.insert(a.end(),
             {"-chardev", "file,id=serial0,path=" + Escape(spec.serial_path) + ",append=on",
              "-serial", "chardev:serial0"});
  }
  a.insert(a.end(), {"-qmp", "unix:" + Escape(socket_path) + ",server=on,wait=off"});
  if (!spec.pid_path.empty()) a.insert(a.end(), {"-pidfile", spec.pid_path});
  return a;
}

std::optional<std::string> QemuDriver::SocketFromCommandLine(
    const std::vector<std::string>& argv) const {
  if (argv.empty() || Basename(argv[0]).rfind("qemu-system", 0) != 0) return std::nullopt;
  for (size_t i = 1; i + 1 < argv.size(); ++i) {
    if (argv[i] != "-qmp" || argv[i + 1].rfind("unix:", 0) != 0) continue;
    const std::string& v = argv[i + 1];
    std::string path;
    for (size_t j = 5; j < v.size(); ++j) {
      if (v[j] == ',') {
        if (j + 1 < v.size() && v[j + 1] == ',') {
          path += ',';
          ++j;
          continue;
        }
        break;
      }
      path += v[j];
    }
    return path;
  }
  return std::nullopt;
}

Result<std::string> QemuDriver::Run(const std::string& socket_path, std::string_view command,
                                    std::string_view arguments) {
  auto client = QmpClient::Connect(socket_path, options_.connect_timeout);
  if (!client.ok()) return client.status();
  return client->Execute(command, arguments, options_.call_timeout);
}

Result<QemuDriver::Session> QemuDriver::Open(const std::string& socket_path) {
  auto client = QmpClient::Connect(socket_path, options_.connect_timeout);
  if (!client.ok()) return client.status();
  auto answer = client->Execute("query-status", "", options_.call_timeout);
  if (!answer.ok()) return answer.status();
  auto status = StatusWord(*answer);
  if (!status.ok()) return status.status();
  return Session{std::move(*client), std::move(*status)};
}

Result<std::string> QemuDriver::QueryStatus(const std::string& socket_path) {
  auto answer = Run(socket_path, "query-status");
  if (!answer.ok()) return answer.status();
  return StatusWord(*answer);
}

std::string QemuDriver::StateFromQemu(std::string_view s) {
  if (s == "prelaunch") return "Created";
  if (s == "running") return "Running";
  if (s == "shutdown" || s == "guest-panicked" || s == "internal-error") return "Shutdown";
  return "Paused";  // paused, suspended, debug, io-error, watchdog, migration states...
}

Status QemuDriver::Ping(const std::string& socket_path) {
  auto client = QmpClient::Connect(socket_path, options_.connect_timeout);
  if (!client.ok()) return client.status();
  std::lock_guard<std::mutex> lock(mu_);
  if (version_.empty()) version_ = client->version().ToString();
  return Status::Ok();
}

Status QemuDriver::Create(const std::string& socket_path, const VmSpec& spec) {
  if (spec.kernel_path.empty() && spec.firmware_path.empty()) {
    return Status::InvalidArgument("QEMU at " + socket_path +
                                   ": the VM has neither a kernel nor a firmware to boot");
  }
  if (spec.cpus < 1 || spec.memory_mb < 1) {
    return Status::InvalidArgument("QEMU at " + socket_path +
                                   ": a VM needs at least 1 CPU and 1 MiB of memory");
  }
  return Status::Ok();  // the machine is on QEMU's command line
}

Status QemuDriver::Boot(const std::string& socket_path) {
  auto session = Open(socket_path);
  if (!session.ok()) return session.status();
  QmpClient& client = session->client;
  const std::string& status = session->status;
  const std::string state = StateFromQemu(status);
  if (state == "Shutdown") {
    auto reset = client.Execute("system_reset", "", options_.call_timeout);
    if (!reset.ok()) return reset.status();
  } else if (state != "Created") {
    return Status::FailedPrecondition("QEMU at " + socket_path + " cannot boot its guest: it is " +
                                      status);
  }
  auto cont = client.Execute("cont", "", options_.call_timeout);
  return cont.ok() ? Status::Ok() : cont.status();
}

Status QemuDriver::Shutdown(const std::string& socket_path) {
  auto r = Run(socket_path, "stop");
  return r.ok() ? Status::Ok() : r.status();
}

Status QemuDriver::PowerButton(const std::string& socket_path) {
  auto session = Open(socket_path);
  if (!session.ok()) return session.status();
  QmpClient& client = session->client;
  const std::string& status = session->status;
  if (status != "running") {
    return Status::FailedPrecondition("QEMU at " + socket_path +
                                      ": the power button needs a running guest; it is " + status);
  }
  auto r = client.Execute("system_powerdown", "", options_.call_timeout);
  return r.ok() ? Status::Ok() : r.status();
}

Status QemuDriver::Reboot(const std::string& socket_path) {
  auto r = Run(socket_path, "system_reset");
  return r.ok() ? Status::Ok() : r.status();
}

Status QemuDriver::Pause(const std::string& socket_path) {
  auto r = Run(socket_path, "stop");
  return r.ok() ? Status::Ok() : r.status();
}

Status QemuDriver::Resume(const std::string& socket_path) {
  auto session = Open(socket_path);
  if (!session.ok()) return session.status();
  QmpClient& client = session->client;
  const std::string& status = session->status;
  // `cont` would boot a guest that was never booted; resume only a paused one.
  if (StateFromQemu(status) != "Paused") {
    return Status::FailedPrecondition("QEMU at " + socket_path +
                                      " has no paused guest to resume: it is " + status);
  }
  auto r = client.Execute("cont", "", options_.call_timeout);
  return r.ok() ? Status::Ok() : r.status();
}

Status QemuDriver::Delete(const std::string& socket_path) {
  return Status::FailedPrecondition(
      "QEMU at " + socket_path +
      " keeps its machine for the life of its process; start a new process for another one");
}

Result<VmInfo> QemuDriver::Info(const std::string& socket_path) {
  auto session = Open(socket_path);
  if (!session.ok()) return session.status();
  QmpClient& client = session->client;
  const std::string& status = session->status;
  VmInfo info;
  info.state = StateFromQemu(status);
  auto cpus = client.Execute("query-cpus-fast", "", options_.call_timeout);
  if (!cpus.ok()) return cpus.status();
  rapidjson::Document doc;
  doc.Parse(cpus->c_str());
  if (!doc.HasParseError() && doc.IsArray()) info.cpus = static_cast<int>(doc.Size());
  auto mem = client.Execute("query-memory-size-summary", "", options_.call_timeout);
  if (!mem.ok()) return mem.status();
  doc.Parse(mem->c_str());
  if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("base-memory") &&
      doc["base-memory"].IsInt64()) {
    info.memory_bytes = doc["base-memory"].GetInt64();
  }
  return info;
}

Status QemuDriver::ShutdownVmm(const std::string& socket_path) {
  auto r = Run(socket_path, "quit");
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::string> QemuBinaryVersion(const std::string& binary) {
  auto out = RunCommand({binary, "--version"}, std::chrono::seconds(10));
  if (!out.ok()) return out.status();
  std::smatch m;
  static const std::regex kVersion("version ([0-9]+\\.[0-9]+(\\.[0-9]+)?)");
  if (out->exit_status != 0 || !std::regex_search(out->output, m, kVersion)) {
    return Status::Internal(binary +
                            " --version did not say its version: " + out->output.substr(0, 200));
  }
  return m[1].str();
}

AccelChoice ChooseAccelerator(const AccelProbe& probe) {
  if (probe.mode == "tcg") return {"tcg", "STRATO_HOSTD_ACCEL=tcg asks for software emulation"};
  if (probe.mode == "kvm") return {"kvm", "STRATO_HOSTD_ACCEL=kvm forces KVM (not probed)"};
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return {"tcg", std::string("/dev/kvm cannot be opened (") + std::strerror(errno) +
                       "); using software emulation"};
  }
  close(fd);
  if (probe.kernel_path.empty() || access(probe.kernel_path.c_str(), R_OK) != 0) {
    return {"tcg", "no guest kernel to probe KVM with (" +
                       (probe.kernel_path.empty() ? std::string("none configured")
                                                  : probe.kernel_path + " is not readable") +
                       "); using software emulation"};
  }
  std::vector<std::string> argv = {probe.binary, "-nodefaults", "-no-user-config",
                                   "-display",   "none",        "-machine",
                                   "q35",        "-accel",      "kvm",
                                   "-cpu",       "host",        "-smp",
                                   "1",          "-m",          "128M",
                                   "-no-reboot", "-kernel",     probe.kernel_path};
  if (!probe.initrd_path.empty()) argv.insert(argv.end(), {"-initrd", probe.initrd_path});
  argv.insert(argv.end(), {"-append", "console=ttyS0 panic=-1 strato.probe", "-serial", "stdio"});
  const auto start = std::chrono::steady_clock::now();
  auto out = RunCommand(argv, probe.timeout);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  if (!out.ok()) return {"tcg", "the KVM probe could not run: " + out.status().message()};
  const bool booted = out->output.find("strato-guest: booting") != std::string::npos ||
                      (out->output.find("Run /init as init process") != std::string::npos &&
                       out->output.find("Kernel panic") == std::string::npos);
  if (booted) {
    return {"kvm", "a probe guest booted under KVM in " + std::to_string(took.count()) + " ms"};
  }
  std::string tail =
      out->output.size() > 300 ? out->output.substr(out->output.size() - 300) : out->output;
  for (char& c : tail) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return {"tcg", std::string("a probe guest did not boot under KVM ") +
                     (out->timed_out
                          ? "within " + std::to_string(probe.timeout.count()) + " ms"
                          : "(QEMU exited with status " + std::to_string(out->exit_status) + ")") +
                     "; using software emulation. Its last output: " + tail};
}

}  // namespace strato::hostd
