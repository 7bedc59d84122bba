#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "hostd/hypervisor/ch_driver.h"
#include "test/hostd/hypervisor/sim_process.h"

using namespace strato;
using namespace strato::hostd;
using namespace strato::hypervisor_test;

namespace {

VmSpec Web1() {
  VmSpec spec;
  spec.vm_id = "vm-1";
  spec.cpus = 2;
  spec.memory_mb = 1024;
  spec.kernel_path = "/var/lib/strato/images/vmlinux";
  spec.cmdline = "console=ttyS0 root=/dev/vda1 rw";
  spec.disk_paths = {"/var/lib/strato/vms/vm-1/root.raw", "/var/lib/strato/vms/vm-1/data.raw"};
  spec.tap_name = "tap-vm1";
  spec.mac = "52:54:00:12:34:56";
  spec.serial_path = "/var/lib/strato/vms/vm-1/serial.log";
  return spec;
}

std::string State(CloudHypervisorDriver& driver, const std::string& socket) {
  Result<VmInfo> info = driver.Info(socket);
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  return info->state;
}

// The driver as hostd builds it, with the simulator standing in for cloud-hypervisor.
CloudHypervisorDriver SimDriver() {
  CloudHypervisorOptions options;
  options.binary = SimulatorBinary();
  return CloudHypervisorDriver(options);
}

}  // namespace

TEST_CASE("the VmConfig carries cpus memory payload disks net serial and console from the spec") {
  Result<std::string> json = CloudHypervisorDriver::BuildVmConfigJson(Web1());
  REQUIRE(json.ok());
  rapidjson::Document doc;
  doc.Parse(json->c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(doc["cpus"]["boot_vcpus"].GetInt() == 2);
  CHECK(doc["cpus"]["max_vcpus"].GetInt() == 2);
  CHECK(doc["memory"]["size"].GetInt64() == 1024LL * 1024 * 1024);
  CHECK(std::string(doc["payload"]["kernel"].GetString()) == "/var/lib/strato/images/vmlinux");
  CHECK(std::string(doc["payload"]["cmdline"].GetString()) == "console=ttyS0 root=/dev/vda1 rw");
  CHECK_FALSE(doc["payload"].HasMember("firmware"));
  REQUIRE(doc["disks"].Size() == 2);
  CHECK(std::string(doc["disks"][0]["path"].GetString()) == "/var/lib/strato/vms/vm-1/root.raw");
  REQUIRE(doc["net"].Size() == 1);
  CHECK(std::string(doc["net"][0]["tap"].GetString()) == "tap-vm1");
  CHECK(std::string(doc["net"][0]["mac"].GetString()) == "52:54:00:12:34:56");
  CHECK(std::string(doc["serial"]["mode"].GetString()) == "File");
  CHECK(std::string(doc["serial"]["file"].GetString()) == "/var/lib/strato/vms/vm-1/serial.log");
  CHECK(std::string(doc["console"]["mode"].GetString()) == "Off");
}

TEST_CASE("a VmConfig without network or serial file uses a Null serial and no net or disks") {
  VmSpec spec;
  spec.vm_id = "vm-2";
  spec.firmware_path = "/usr/share/cloud-hypervisor/hypervisor-fw";
  Result<std::string> json = CloudHypervisorDriver::BuildVmConfigJson(spec);
  REQUIRE(json.ok());
  rapidjson::Document doc;
  doc.Parse(json->c_str());
  CHECK(std::string(doc["payload"]["firmware"].GetString()) ==
        "/usr/share/cloud-hypervisor/hypervisor-fw");
  CHECK_FALSE(doc["payload"].HasMember("kernel"));
  CHECK_FALSE(doc.HasMember("net"));
  CHECK_FALSE(doc.HasMember("disks"));
  CHECK(std::string(doc["serial"]["mode"].GetString()) == "Null");
  CHECK(doc["memory"]["size"].GetInt64() == 512LL * 1024 * 1024);
}

TEST_CASE("a spec that cannot boot is refused before any call") {
  VmSpec no_payload;
  no_payload.vm_id = "vm-3";
  Result<std::string> a = CloudHypervisorDriver::BuildVmConfigJson(no_payload);
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().code() == Code::kInvalidArgument);
  CHECK(a.status().message() == "VM vm-3 has neither a kernel nor a firmware to boot.");

  VmSpec no_cpu = Web1();
  no_cpu.cpus = 0;
  CHECK(CloudHypervisorDriver::BuildVmConfigJson(no_cpu).status().code() == Code::kInvalidArgument);
}

TEST_CASE("the VMM command line serves the API on the given socket") {
  CloudHypervisorOptions options;
  options.binary = "/usr/bin/cloud-hypervisor";
  options.extra_args = {"-v"};
  CloudHypervisorDriver driver(options);
  CHECK(driver.VmmCommandLine("/run/strato/vm-1.sock") ==
        std::vector<std::string>{"/usr/bin/cloud-hypervisor", "--api-socket",
                                 "path=/run/strato/vm-1.sock", "-v"});
  CHECK(driver.Kind() == "cloud-hypervisor");
}

TEST_CASE("the driver takes a VM through its whole lifecycle on the simulator") {
  ScratchDir dir;
  std::string sock = dir.File("vm-1.sock");
  CloudHypervisorDriver driver = SimDriver();
  // Start the VMM exactly as hostd will: from the driver's own command line.
  auto sim = SimProcess::Spawn(driver.VmmCommandLine(sock), sock + ".log");
  REQUIRE(sim.ok());
  REQUIRE(WaitForSocket(sock, std::chrono::seconds(10)).ok());

  REQUIRE(driver.Ping(sock).ok());
  CHECK(driver.Kind() == "cloud-hypervisor 0.0.0-simulator");
  CHECK(State(driver, sock) == "NotCreated");

  REQUIRE(driver.Create(sock, Web1()).ok());
  Result<VmInfo> info = driver.Info(sock);
  REQUIRE(info.ok());
  CHECK(info->state == "Created");
  CHECK(info->cpus == 2);
  CHECK(info->memory_bytes == 1024LL * 1024 * 1024);

  REQUIRE(driver.Boot(sock).ok());
  CHECK(State(driver, sock) == "Running");
  REQUIRE(driver.Pause(sock).ok());
  CHECK(State(driver, sock) == "Paused");
  REQUIRE(driver.Resume(sock).ok());
  CHECK(State(driver, sock) == "Running");
  REQUIRE(driver.Reboot(sock).ok());
  CHECK(State(driver, sock) == "Running");

  // Like the real VMM (vmm/src/lib.rs vm_shutdown drops the VM and keeps its config), a shut
  // down VM reports "Created" and boots again.
  REQUIRE(driver.Shutdown(sock).ok());
  CHECK(State(driver, sock) == "Created");
  REQUIRE(driver.Boot(sock).ok());
  CHECK(State(driver, sock) == "Running");

  REQUIRE(driver.Delete(sock).ok());
  CHECK(State(driver, sock) == "NotCreated");
  CHECK((*sim)->Running());
}

TEST_CASE("pausing before boot fails the precondition with the VMM's error chain verbatim") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock);
  REQUIRE(sim.ok());
  CloudHypervisorDriver driver = SimDriver();

  Status s = driver.Pause(sock);
  CHECK(s.code() == Code::kFailedPrecondition);
  CHECK(s.message() == "Cloud Hypervisor refused vm.pause on " + sock +
                           " (HTTP 500): [\"Error from API\",\"The VM could not be paused\","
                           "\"VM is not running\"]");

  REQUIRE(driver.Create(sock, Web1()).ok());
  Status again = driver.Create(sock, Web1());
  CHECK(again.code() == Code::kFailedPrecondition);
  CHECK(again.message().find("[\"Error from API\",\"The VM could not be created\","
                             "\"VM is already created\"]") != std::string::npos);

  Status reboot = driver.Reboot(sock);  // not booted: 404 with a chain
  CHECK(reboot.code() == Code::kFailedPrecondition);
  CHECK(reboot.message().find("(HTTP 404)") != std::string::npos);

  REQUIRE(driver.Boot(sock).ok());
  Status resume = driver.Resume(sock);  // running, not paused
  CHECK(resume.code() == Code::kFailedPrecondition);
  CHECK(resume.message().find("InvalidStateTransition(Running, Running)") != std::string::npos);
  Status boot = driver.Boot(sock);
  CHECK(boot.code() == Code::kFailedPrecondition);
  CHECK(boot.message().find("VM is already created") != std::string::npos);
}

TEST_CASE("booting with nothing created fails the precondition with HTTP 404") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock);
  REQUIRE(sim.ok());
  CloudHypervisorDriver driver = SimDriver();
  Status s = driver.Boot(sock);
  CHECK(s.code() == Code::kFailedPrecondition);
  CHECK(s.message().find("(HTTP 404): [\"Error from API\",\"The VM could not boot\","
                         "\"VM config is missing\"]") != std::string::npos);
  CHECK(driver.Shutdown(sock).code() == Code::kFailedPrecondition);
  CHECK(driver.Delete(sock).ok());  // deleting nothing succeeds, as on the real VMM
}

TEST_CASE("the driver maps 400 to InvalidArgument and an unknown path 404 to Internal") {
  HttpResponse bad;
  bad.status = 400;
  bad.body = "[\"Failed to deserialize JSON\",\"missing field `size`\"]";
  Status a = StatusFromResponse("vm.create", "/s.sock", bad);
  CHECK(a.code() == Code::kInvalidArgument);
  CHECK(a.message() == "Cloud Hypervisor refused vm.create on /s.sock (HTTP 400): " + bad.body);

  HttpResponse unknown;
  unknown.status = 404;
  unknown.body = "[\"Not Found\"]";
  CHECK(StatusFromResponse("vm.nope", "/s.sock", unknown).code() == Code::kInternal);

  HttpResponse spec405;
  spec405.status = 405;
  spec405.body = "[\"Error from API\",\"The VM could not be paused\"]";
  CHECK(StatusFromResponse("vm.pause", "/s.sock", spec405).code() == Code::kFailedPrecondition);

  HttpResponse bare;
  bare.status = 400;
  Status b = StatusFromResponse("vm.boot", "/s.sock", bare);
  CHECK(b.code() == Code::kInvalidArgument);
  CHECK(b.message() ==
        "Cloud Hypervisor refused vm.boot on /s.sock (HTTP 400) without an error "
        "body.");

  HttpResponse conflict;
  conflict.status = 409;
  conflict.body = "[\"Error from API\",\"x\"]";
  CHECK(StatusFromResponse("vm.create", "/s.sock", conflict).code() == Code::kInternal);
}

TEST_CASE("every driver call is unavailable when the socket does not exist") {
  ScratchDir dir;
  std::string sock = dir.File("gone.sock");
  CloudHypervisorDriver driver = SimDriver();
  std::vector<Status> all = {driver.Ping(sock),          driver.Create(sock, Web1()),
                             driver.Boot(sock),          driver.Shutdown(sock),
                             driver.Reboot(sock),        driver.Pause(sock),
                             driver.Resume(sock),        driver.Delete(sock),
                             driver.Info(sock).status(), driver.ShutdownVmm(sock)};
  for (const Status& s : all) {
    CAPTURE(s.ToString());
    CHECK(s.code() == Code::kUnavailable);
    CHECK(s.message().find("There is no API socket at " + sock) != std::string::npos);
  }
  CHECK(driver.Boot(sock).message().rfind("Cannot call Cloud Hypervisor's vm.boot: ", 0) == 0);
}

TEST_CASE("the driver's calls are unavailable once the VMM has crashed") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock);
  REQUIRE(sim.ok());
  CloudHypervisorDriver driver = SimDriver();
  REQUIRE(driver.Ping(sock).ok());
  REQUIRE((*sim)->Signal(SIGUSR1).ok());
  Result<int> code = (*sim)->Wait(std::chrono::seconds(10));
  REQUIRE(code.ok());
  CHECK(*code == 1);
  Status s = driver.Ping(sock);  // the stale socket file is still there; nobody listens
  CHECK(s.code() == Code::kUnavailable);
  CHECK(s.message().find("connection refused") != std::string::npos);
}

TEST_CASE("ShutdownVmm deletes the VM and makes the VMM exit 0") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock);
  REQUIRE(sim.ok());
  CloudHypervisorDriver driver = SimDriver();
  REQUIRE(driver.Create(sock, Web1()).ok());
  REQUIRE(driver.Boot(sock).ok());
  REQUIRE(driver.ShutdownVmm(sock).ok());
  Result<int> code = (*sim)->Wait(std::chrono::seconds(10));
  REQUIRE(code.ok());
  CHECK(*code == 0);
  struct stat st {};
  CHECK(::stat(sock.c_str(), &st) != 0);  // the socket is removed on a clean exit
  CHECK(driver.Ping(sock).code() == Code::kUnavailable);
}

TEST_CASE("one driver serves many VMs from several threads at once") {
  ScratchDir dir;
  CloudHypervisorDriver driver = SimDriver();
  constexpr int kVms = 6;
  std::vector<std::unique_ptr<SimProcess>> sims;
  for (int i = 0; i < kVms; ++i) {
    auto sim = StartSimulator(dir.File("vm" + std::to_string(i) + ".sock"));
    REQUIRE(sim.ok());
    sims.push_back(std::move(*sim));
  }
  std::vector<std::thread> threads;
  std::vector<int> failures(kVms, 0);
  for (int i = 0; i < kVms; ++i) {
    threads.emplace_back([&, i] {
      std::string sock = dir.File("vm" + std::to_string(i) + ".sock");
      for (int round = 0; round < 20; ++round) {
        VmSpec spec = Web1();
        spec.vm_id = "vm-" + std::to_string(i);
        if (!driver.Create(sock, spec).ok()) ++failures[i];
        if (!driver.Boot(sock).ok()) ++failures[i];
        auto info = driver.Info(sock);
        if (!info.ok() || info->state != "Running") ++failures[i];
        if (!driver.Delete(sock).ok()) ++failures[i];
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kVms; ++i) CHECK(failures[i] == 0);
}

TEST_CASE("PowerButton lets the guest power off and its VMM exit 0 by itself") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock);
  REQUIRE(sim.ok());
  CloudHypervisorDriver driver = SimDriver();
  // Not booted: the VMM refuses with its error chain.
  Status early = driver.PowerButton(sock);
  CHECK(early.code() == Code::kFailedPrecondition);
  CHECK(early.message().find("vm.power-button") != std::string::npos);
  REQUIRE(driver.Create(sock, Web1()).ok());
  REQUIRE(driver.Boot(sock).ok());
  REQUIRE(driver.PowerButton(sock).ok());
  Result<int> code = (*sim)->Wait(std::chrono::seconds(10));
  REQUIRE(code.ok());
  CHECK(*code == 0);
  CHECK((*sim)->Log().find("simulated guest power-off (power button)") != std::string::npos);
}

TEST_CASE("PowerButton on a guest that ignores it leaves the VM running") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock, {"--ignore-power-button"});
  REQUIRE(sim.ok());
  CloudHypervisorDriver driver = SimDriver();
  REQUIRE(driver.Create(sock, Web1()).ok());
  REQUIRE(driver.Boot(sock).ok());
  REQUIRE(driver.PowerButton(sock).ok());
  REQUIRE(driver.PowerButton(sock).ok());
  CHECK(State(driver, sock) == "Running");
  CHECK((*sim)->Running());
  CHECK((*sim)->Log() == std::string("simulated guest ignored the power button\n") +
                             "simulated guest ignored the power button\n");
  REQUIRE(driver.ShutdownVmm(sock).ok());
  Result<int> code = (*sim)->Wait(std::chrono::seconds(10));
  REQUIRE(code.ok());
  CHECK(*code == 0);
}
