// QemuDriver against real qemu-system-x86_64 processes booting the test guest that
// ops/guest/build makes (the Debian cloud kernel and a busybox initramfs, under TCG), with a
// NoCloud seed made by MakeNoCloudSeed. The guest prints "strato-guest: ..." lines on its
// serial console (ops/guest/init); every wait on them has a generous deadline, since a loaded
// machine boots the guest in anything from 3 to 30 s.
#include "hostd/hypervisor/qemu_driver.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "hostd/hypervisor/seed.h"
#include "test/hostd/hypervisor/sim_process.h"

namespace strato::hostd {
namespace {

using hypervisor_test::ReadFile;
using hypervisor_test::ScratchDir;
using hypervisor_test::SimProcess;
using namespace std::chrono_literals;

constexpr const char* kQemu = "/usr/bin/qemu-system-x86_64";

// The built guest: $STRATO_GUEST_DIR, else the build's guest/ folder. Missing is a failure
// with the command that makes it, not a skip.
struct Guest {
  std::string kernel, initrd, cmdline;
};
Guest BuiltGuest() {
  const char* env = std::getenv("STRATO_GUEST_DIR");
  const std::string dir = env != nullptr && *env != '\0' ? env : STRATO_GUEST_DIR;
  Guest g{dir + "/vmlinuz", dir + "/initrd.img", ""};
  REQUIRE_MESSAGE(access(g.kernel.c_str(), R_OK) == 0,
                  ("no test guest in " + dir + ": run ops/guest/build " + dir));
  REQUIRE_MESSAGE(access(g.initrd.c_str(), R_OK) == 0,
                  ("no test guest in " + dir + ": run ops/guest/build " + dir));
  g.cmdline = ReadFile(dir + "/cmdline");
  while (!g.cmdline.empty() && (g.cmdline.back() == '\n' || g.cmdline.back() == ' ')) {
    g.cmdline.pop_back();
  }
  if (g.cmdline.empty()) g.cmdline = "console=ttyS0 quiet panic=-1";
  return g;
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

// One VM's files in a scratch folder and its spec for the built guest.
struct GuestVm {
  ScratchDir dir;
  Guest guest = BuiltGuest();
  VmSpec spec;
  std::string sock = dir.File("vm.sock");
  std::unique_ptr<SimProcess> qemu;

  explicit GuestVm(const std::string& hostname) {
    spec.vm_id = "vm-" + hostname;
    spec.cpus = 1;
    spec.memory_mb = 128;
    spec.kernel_path = guest.kernel;
    spec.initrd_path = guest.initrd;
    spec.cmdline = guest.cmdline;
    spec.disk_paths = {dir.File("root.img")};
    spec.seed_path = dir.File("seed.iso");
    spec.serial_path = dir.File("serial.log");
    spec.pid_path = dir.File("qemu.pid");
    int fd = open(spec.disk_paths[0].c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, 16 << 20) == 0);
    close(fd);
    NoCloudSeed seed;
    seed.meta_data = NoCloudMetaData(spec.vm_id, hostname);
    seed.user_data = "#!/bin/sh\necho user-data-ran-on-$(hostname)\n";
    Status made = MakeNoCloudSeed(spec.seed_path, seed);
    REQUIRE_MESSAGE(made.ok(), made.ToString());
  }

  void Start(QemuDriver& driver) {
    auto p = SimProcess::Spawn(driver.VmmCommandLine(sock, spec), dir.File("qemu.log"));
    REQUIRE_MESSAGE(p.ok(), p.status().ToString());
    qemu = std::move(*p);
    bool up = WaitUntil([&] { return driver.Ping(sock).ok(); }, 20s);
    REQUIRE_MESSAGE(up, ("QEMU did not answer on its QMP socket: " + qemu->Log()));
  }
  std::string Serial() const { return ReadFile(spec.serial_path); }
  // Waits for `what` to appear `times` times on the serial console.
  void AwaitSerial(const std::string& what, int times = 1,
                   std::chrono::milliseconds timeout = 150s) {
    bool seen = WaitUntil([&] { return Count(Serial(), what) >= times; }, timeout);
    REQUIRE_MESSAGE(seen, ("the guest did not print \"" + what + "\" " + std::to_string(times) +
                           " time(s); serial console:\n" + Serial() + "\nQEMU: " + qemu->Log()));
  }
  std::string State(QemuDriver& driver) {
    auto info = driver.Info(sock);
    REQUIRE_MESSAGE(info.ok(), info.status().ToString());
    return info->state;
  }
};

QemuOptions TcgOptions() {
  QemuOptions o;
  o.binary = kQemu;
  o.accel = "tcg";
  o.power_button_repeat = 3s;
  return o;
}

TEST_CASE("QemuDriver boots the test guest which reads its seed then pauses resumes and restarts") {
  QemuDriver driver(TcgOptions());
  GuestVm vm("qemu-guest-1");
  vm.Start(driver);

  auto created = driver.Info(vm.sock);
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  CHECK(created->state == "Created");
  CHECK(created->cpus == 1);
  CHECK(created->memory_bytes == 128LL * 1024 * 1024);
  CHECK(driver.Kind().rfind("qemu 7.", 0) == 0);
  CHECK(driver.Create(vm.sock, vm.spec).ok());
  Status deleted = driver.Delete(vm.sock);
  CHECK(deleted.code() == Code::kFailedPrecondition);
  // Resuming a guest that never booted would boot it: refused.
  CHECK(driver.Resume(vm.sock).code() == Code::kFailedPrecondition);
  CHECK(vm.Serial().empty());  // paused before boot: no guest code has run

  Status booted = driver.Boot(vm.sock);
  REQUIRE_MESSAGE(booted.ok(), booted.ToString());
  CHECK(vm.State(driver) == "Running");
  CHECK(driver.Boot(vm.sock).code() == Code::kFailedPrecondition);
  vm.AwaitSerial("strato-guest: booting");
  vm.AwaitSerial("strato-guest: hostname=qemu-guest-1");
  vm.AwaitSerial("user-data-ran-on-qemu-guest-1");
  vm.AwaitSerial("strato-guest: uptime ", 2);

  // Paused: the guest's clock line stops.
  Status paused = driver.Pause(vm.sock);
  REQUIRE_MESSAGE(paused.ok(), paused.ToString());
  CHECK(vm.State(driver) == "Paused");
  const int at_pause = Count(vm.Serial(), "strato-guest: uptime ");
  std::this_thread::sleep_for(3s);
  CHECK(Count(vm.Serial(), "strato-guest: uptime ") == at_pause);
  CHECK(driver.PowerButton(vm.sock).code() == Code::kFailedPrecondition);

  Status resumed = driver.Resume(vm.sock);
  REQUIRE_MESSAGE(resumed.ok(), resumed.ToString());
  CHECK(vm.State(driver) == "Running");
  vm.AwaitSerial("strato-guest: uptime ", at_pause + 2, 60s);

  // Restart: the guest boots a second time and reads its seed again.
  Status reset = driver.Reboot(vm.sock);
  REQUIRE_MESSAGE(reset.ok(), reset.ToString());
  vm.AwaitSerial("strato-guest: booting", 2);
  CHECK(vm.State(driver) == "Running");

  // Graceful stop right after the reboot: a press while the guest boots is lost, so press
  // again every few seconds (as hostd does) until the guest powers off and QEMU exits.
  bool exited = false;
  const auto until = std::chrono::steady_clock::now() + 150s;
  while (!exited && std::chrono::steady_clock::now() < until) {
    Status pressed = driver.PowerButton(vm.sock);
    if (!pressed.ok()) {
      CHECK_MESSAGE(pressed.code() == Code::kUnavailable, pressed.ToString());  // exiting
    }
    exited = WaitUntil([&] { return !vm.qemu->Running(); }, 3s);
  }
  REQUIRE_MESSAGE(exited, ("the guest did not power off; serial:\n" + vm.Serial()));
  auto code = vm.qemu->Wait(1s);
  REQUIRE(code.ok());
  CHECK(*code == 0);
  CHECK(Count(vm.Serial(), "strato-guest: power button: powering off") == 1);
  CHECK(driver.Info(vm.sock).status().code() == Code::kUnavailable);
}

TEST_CASE("QemuDriver stops a running guest by force and names a missing socket") {
  QemuDriver driver(TcgOptions());
  GuestVm vm("qemu-guest-2");
  vm.Start(driver);
  REQUIRE(driver.Boot(vm.sock).ok());
  CHECK(vm.State(driver) == "Running");
  Status stopped = driver.Shutdown(vm.sock);  // the guest gets no say: its CPUs stop
  REQUIRE_MESSAGE(stopped.ok(), stopped.ToString());
  CHECK(vm.State(driver) == "Paused");
  Status quit = driver.ShutdownVmm(vm.sock);
  CHECK_MESSAGE((quit.ok() || quit.code() == Code::kUnavailable), quit.ToString());
  auto code = vm.qemu->Wait(10s);
  REQUIRE_MESSAGE(code.ok(), code.status().ToString());
  CHECK(*code == 0);
  CHECK_FALSE(vm.qemu->Running());
  Status gone = driver.Ping(vm.sock);
  CHECK(gone.code() == Code::kUnavailable);
  CHECK(driver.Boot(vm.sock).code() == Code::kUnavailable);
}

TEST_CASE("QemuDriver command line names the machine and reads its socket back") {
  QemuOptions o = TcgOptions();
  o.version = "7.2.19";
  QemuDriver driver(o);
  CHECK(driver.Kind() == "qemu 7.2.19");
  CHECK(driver.MachineOnCommandLine());
  CHECK(driver.PowerButtonRepeat() == 3s);
  VmSpec spec;
  spec.vm_id = "vm-1";
  spec.cpus = 2;
  spec.memory_mb = 256;
  spec.kernel_path = "/k/vmlinuz";
  spec.initrd_path = "/k/initrd.img";
  spec.cmdline = "console=ttyS0";
  spec.disk_paths = {"/state/a,b/root.img"};
  spec.seed_path = "/state/seed.iso";
  spec.serial_path = "/state/serial.log";
  spec.pid_path = "/state/qemu.pid";
  const std::string sock = "/state/we,ird/vm-1.sock";
  std::vector<std::string> argv = driver.VmmCommandLine(sock, spec);
  auto has = [&](const std::string& flag, const std::string& value) {
    for (size_t i = 0; i + 1 < argv.size(); ++i) {
      if (argv[i] == flag && argv[i + 1] == value) return true;
    }
    return false;
  };
  CHECK(argv[0] == kQemu);
  CHECK(std::find(argv.begin(), argv.end(), "-S") != argv.end());
  CHECK(std::find(argv.begin(), argv.end(), "-nodefaults") != argv.end());
  CHECK(has("-accel", "tcg"));
  CHECK(has("-smp", "2"));
  CHECK(has("-m", "256M"));
  CHECK(has("-kernel", "/k/vmlinuz"));
  CHECK(has("-initrd", "/k/initrd.img"));
  CHECK(has("-append", "console=ttyS0"));
  CHECK(has("-drive", "file=/state/a,,b/root.img,if=none,id=disk0,format=raw,discard=unmap"));
  CHECK(has("-drive", "file=/state/seed.iso,if=none,id=seed,format=raw,readonly=on"));
  CHECK(has("-chardev", "file,id=serial0,path=/state/serial.log,append=on"));
  CHECK(has("-qmp", "unix:/state/we,,ird/vm-1.sock,server=on,wait=off"));
  CHECK(has("-pidfile", "/state/qemu.pid"));
  CHECK(driver.SocketFromCommandLine(argv) == sock);
  CHECK_FALSE(driver.SocketFromCommandLine({"/usr/bin/cloud-hypervisor", "--api-socket", sock}));
  CHECK_FALSE(driver.SocketFromCommandLine({"/bin/sleep", "-qmp", "unix:/x.sock"}));

  CHECK(QemuDriver::StateFromQemu("prelaunch") == "Created");
  CHECK(QemuDriver::StateFromQemu("running") == "Running");
  CHECK(QemuDriver::StateFromQemu("paused") == "Paused");
  CHECK(QemuDriver::StateFromQemu("suspended") == "Paused");
  CHECK(QemuDriver::StateFromQemu("shutdown") == "Shutdown");
  CHECK(QemuDriver::StateFromQemu("guest-panicked") == "Shutdown");

  QemuOptions kvm = o;
  kvm.accel = "kvm";
  std::vector<std::string> kvm_argv = QemuDriver(kvm).VmmCommandLine(sock, spec);
  CHECK(std::find(kvm_argv.begin(), kvm_argv.end(), "kvm") != kvm_argv.end());
}

TEST_CASE(
    "QemuBinaryVersion reads the installed QEMU and the accelerator is chosen with a reason") {
  auto v = QemuBinaryVersion(kQemu);
  REQUIRE_MESSAGE(v.ok(), v.status().ToString());
  CHECK(v->rfind("7.", 0) == 0);
  CHECK(QemuBinaryVersion("/nonexistent/qemu").status().code() == Code::kUnavailable);

  AccelProbe forced;
  forced.mode = "tcg";
  CHECK(ChooseAccelerator(forced).accel == "tcg");
  forced.mode = "kvm";
  CHECK(ChooseAccelerator(forced).accel == "kvm");
  AccelProbe none;
  none.binary = kQemu;
  none.kernel_path = "";
  AccelChoice c = ChooseAccelerator(none);  // nothing to probe with: never KVM
  CHECK(c.accel == "tcg");
  CHECK_FALSE(c.why.empty());

  // A real probe with the built guest: KVM only if it boots, and a reason either way.
  Guest g = BuiltGuest();
  AccelProbe probe;
  probe.binary = kQemu;
  probe.kernel_path = g.kernel;
  probe.initrd_path = g.initrd;
  probe.timeout = 5s;
  const auto start = std::chrono::steady_clock::now();
  AccelChoice chosen = ChooseAccelerator(probe);
  CHECK(std::chrono::steady_clock::now() - start < 15s);
  CHECK((chosen.accel == "kvm" || chosen.accel == "tcg"));
  CHECK_FALSE(chosen.why.empty());
  MESSAGE("accelerator: " << chosen.accel << ": " << chosen.why);
}

TEST_CASE("MakeNoCloudSeed writes a CIDATA image and quotes meta-data values") {
  ScratchDir dir;
  const std::string md = NoCloudMetaData("vm-1", "web\"1\nx: y");
  CHECK(md == "instance-id: \"vm-1\"\nlocal-hostname: \"web\\\"1x: y\"\n");
  NoCloudSeed seed{md, "#cloud-config\n", "version: 2\n"};
  Status s = MakeNoCloudSeed(dir.File("seed.iso"), seed);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  std::string iso = ReadFile(dir.File("seed.iso"));
  REQUIRE(iso.size() > 32768 + 72);
  // The primary volume descriptor (sector 16): its volume id at offset 40.
  CHECK(iso.substr(32768 + 40, 6) == "CIDATA");
  CHECK(iso.find("local-hostname") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.File("seed.iso.files")));
  Status missing = MakeNoCloudSeed(dir.File("x.iso"), seed, "/nonexistent/genisoimage");
  CHECK(missing.code() == Code::kUnavailable);
  CHECK_FALSE(std::filesystem::exists(dir.File("x.iso")));
}

}  // namespace
}  // namespace strato::hostd
