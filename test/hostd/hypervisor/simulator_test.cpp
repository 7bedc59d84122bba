#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "hostd/hypervisor/unix_http_client.h"
#include "test/fakes/ch_simulator/vmm_model.h"
#include "test/hostd/hypervisor/sim_process.h"

using namespace strato;
using namespace strato::hostd;
using namespace strato::hypervisor_test;

namespace {

HttpResponse Send(const std::string& sock, std::string_view method, std::string_view endpoint,
                  std::string_view body = {}) {
  auto r = UnixHttpRequest(sock, method, std::string("/api/v1/") + std::string(endpoint), body);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return std::move(*r);
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

long RssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

TEST_CASE("the simulator says it is a test double in its help") {
  ScratchDir dir;
  auto sim = SimProcess::Spawn({SimulatorBinary(), "--help"}, dir.File("help.log"));
  REQUIRE(sim.ok());
  Result<int> code = (*sim)->Wait(std::chrono::seconds(10));
  REQUIRE(code.ok());
  CHECK(*code == 0);
  CHECK((*sim)->Log().find("Cloud Hypervisor simulator (a test double, not a hypervisor)") !=
        std::string::npos);
  CHECK((*sim)->Log().find("--ignore-power-button") != std::string::npos);
}

TEST_CASE("the simulator answers with the real server's headers and JSON error arrays") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock);
  REQUIRE(sim.ok());

  HttpResponse ping = Send(sock, "GET", "vmm.ping");
  CHECK(ping.status == 200);
  REQUIRE(ping.Header("Server") != nullptr);
  CHECK(*ping.Header("Server") == "Cloud Hypervisor API");
  REQUIRE(ping.Header("Content-Type") != nullptr);
  CHECK(*ping.Header("Content-Type") == "application/json");
  CHECK(ping.body.find("\"version\":\"0.0.0-simulator\"") != std::string::npos);
  CHECK(ping.body.find("\"pid\":" + std::to_string((*sim)->pid())) != std::string::npos);

  HttpResponse info = Send(sock, "GET", "vm.info");
  CHECK(info.status == 404);
  CHECK(info.body == R"(["Error from API","The VM info is not available","VM is not created"])");

  HttpResponse pause = Send(sock, "PUT", "vm.pause");
  CHECK(pause.status == 500);  // the spec says 405; the real server answers 500
  CHECK(pause.body == R"(["Error from API","The VM could not be paused","VM is not running"])");

  HttpResponse created = Send(sock, "PUT", "vm.create", R"({"payload":{"kernel":"/k"}})");
  CHECK(created.status == 204);
  CHECK(created.Header("Content-Length") == nullptr);  // micro_http sends none with a 204
  CHECK(*created.Header("Server") == "Cloud Hypervisor API");
}

TEST_CASE("an unknown path is 404 Not Found") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock);
  REQUIRE(sim.ok());
  HttpResponse r = Send(sock, "GET", "vm.nonsense");
  CHECK(r.status == 404);
  CHECK(r.body == R"(["Not Found"])");
  auto outside = UnixHttpRequest(sock, "GET", "/metrics", "");
  REQUIRE(outside.ok());
  CHECK(outside->status == 404);
}

TEST_CASE("a wrong method on a known path is 400") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock);
  REQUIRE(sim.ok());
  HttpResponse get_boot = Send(sock, "GET", "vm.boot");
  CHECK(get_boot.status == 400);
  CHECK(get_boot.body == R"(["Bad Request"])");
  HttpResponse put_ping = Send(sock, "PUT", "vmm.ping");
  CHECK(put_ping.status == 400);
  CHECK(put_ping.body == R"(["Bad Request"])");
  HttpResponse post_boot = Send(sock, "POST", "vm.boot");
  CHECK(post_boot.status == 400);
  CHECK(post_boot.body.empty());
  REQUIRE(post_boot.Header("Content-Length") != nullptr);
  CHECK(*post_boot.Header("Content-Length") == "0");
}

TEST_CASE("a bad or missing JSON body is 400 and creates nothing") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock);
  REQUIRE(sim.ok());
  HttpResponse bad = Send(sock, "PUT", "vm.create", "{not json");
  CHECK(bad.status == 400);
  CHECK(bad.body.rfind(R"(["Failed to deserialize JSON",)", 0) == 0);

  HttpResponse missing = Send(sock, "PUT", "vm.create", R"({"cpus":{"max_vcpus":2}})");
  CHECK(missing.status == 400);
  CHECK(missing.body == R"(["Failed to deserialize JSON","missing field `boot_vcpus`"])");

  HttpResponse no_body = Send(sock, "PUT", "vm.create");
  CHECK(no_body.status == 400);

  HttpResponse body_on_action = Send(sock, "PUT", "vm.boot", "{}");
  CHECK(body_on_action.status == 400);
  CHECK(body_on_action.body == R"(["Bad Request"])");

  CHECK(Send(sock, "GET", "vm.info").status == 404);  // still nothing created
}

TEST_CASE("a created VM without a bootable payload fails to boot with 400") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock);
  REQUIRE(sim.ok());
  CHECK(Send(sock, "PUT", "vm.create", "{}").status == 204);
  HttpResponse boot = Send(sock, "PUT", "vm.boot");
  CHECK(boot.status == 400);
  CHECK(boot.body.find("No bootitem provided: neither firmware nor kernel") != std::string::npos);
}

TEST_CASE("vm.info reports the stored config with the VMM's defaults filled in") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock);
  REQUIRE(sim.ok());
  REQUIRE(Send(sock, "PUT", "vm.create", R"({"payload":{"firmware":"/fw"}})").status == 204);
  HttpResponse info = Send(sock, "GET", "vm.info");
  CHECK(info.status == 200);
  CHECK(info.body.find(R"("cpus":{"boot_vcpus":1,"max_vcpus":1})") != std::string::npos);
  CHECK(info.body.find(R"("memory":{"size":536870912})") != std::string::npos);
  CHECK(info.body.find(R"("state":"Created")") != std::string::npos);
  CHECK(info.body.find(R"("payload":{"firmware":"/fw"})") != std::string::npos);
}

TEST_CASE("the simulator keeps a connection alive across requests") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock);
  REQUIRE(sim.ok());
  std::string two =
      "GET /api/v1/vmm.ping HTTP/1.1\r\nHost: localhost\r\n\r\n"
      "PUT /api/v1/vm.boot HTTP/1.1\r\nHost: localhost\r\n\r\n";
  auto got = RawExchange(sock, two, std::chrono::milliseconds(200));
  REQUIRE(got.ok());
  CHECK(got->rfind("HTTP/1.1 200 \r\n", 0) == 0);
  CHECK(got->find("HTTP/1.1 404 \r\n") != std::string::npos);  // boot with nothing created
}

TEST_CASE("a request line that is not HTTP gets 400") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock);
  REQUIRE(sim.ok());
  auto got = RawExchange(sock, "HELLO\r\n\r\n", std::chrono::milliseconds(200));
  REQUIRE(got.ok());
  CHECK(got->rfind("HTTP/1.1 400 \r\n", 0) == 0);
  CHECK(Send(sock, "GET", "vmm.ping").status == 200);  // and it keeps serving others
}

TEST_CASE("a second simulator on a socket whose lock is held fails and the first keeps serving") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto first = StartSimulator(sock);
  REQUIRE(first.ok());
  auto second = SimProcess::Spawn({SimulatorBinary(), "--api-socket", sock}, dir.File("2.log"));
  REQUIRE(second.ok());
  Result<int> code = (*second)->Wait(std::chrono::seconds(10));
  REQUIRE(code.ok());
  CHECK(*code == 1);
  CHECK((*second)->Log().find("API socket \"" + sock +
                              "\" is already in use by another running instance") !=
        std::string::npos);
  CHECK(Exists(sock));  // the loser must not remove the winner's socket
  CHECK(Send(sock, "GET", "vmm.ping").status == 200);
  CHECK(Exists(sock + ".lock"));
}

TEST_CASE("the simulator replaces a stale socket left by a crashed VMM") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  {
    auto crashed = StartSimulator(sock);
    REQUIRE(crashed.ok());
    REQUIRE((*crashed)->Signal(SIGUSR1).ok());
    Result<int> code = (*crashed)->Wait(std::chrono::seconds(10));
    REQUIRE(code.ok());
    CHECK(*code == 1);
    CHECK((*crashed)->Log().find("simulated guest crash") != std::string::npos);
  }
  CHECK(Exists(sock));  // a crash leaves the socket behind
  auto again = StartSimulator(sock);
  REQUIRE(again.ok());
  CHECK(Send(sock, "GET", "vmm.ping").status == 200);
}

TEST_CASE("vmm.shutdown answers 200 and the process exits 0 and removes its socket") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock);
  REQUIRE(sim.ok());
  REQUIRE(Send(sock, "PUT", "vm.create", R"({"payload":{"kernel":"/k"}})").status == 204);
  REQUIRE(Send(sock, "PUT", "vm.boot").status == 204);
  HttpResponse r = Send(sock, "PUT", "vmm.shutdown");
  CHECK(r.status == 200);  // the spec says 204; the real server answers 200
  Result<int> code = (*sim)->Wait(std::chrono::seconds(10));
  REQUIRE(code.ok());
  CHECK(*code == 0);
  CHECK_FALSE(Exists(sock));
  CHECK((*sim)->Log().empty());  // nothing on stdout or stderr in a normal run
}

TEST_CASE("SIGUSR1 makes the simulated guest crash the VMM with exit status 1") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock);
  REQUIRE(sim.ok());
  REQUIRE((*sim)->Signal(SIGUSR1).ok());
  Result<int> code = (*sim)->Wait(std::chrono::seconds(10));
  REQUIRE(code.ok());
  CHECK(*code == 1);
  CHECK((*sim)->Log() == "simulated guest crash\n");
}

TEST_CASE("a guest power-off ends the VMM with 0 unless --no-shutdown keeps it") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock, {"--kernel", "/k"});
  REQUIRE(sim.ok());
  REQUIRE((*sim)->Signal(SIGUSR2).ok());
  Result<int> code = (*sim)->Wait(std::chrono::seconds(10));
  REQUIRE(code.ok());
  CHECK(*code == 0);

  std::string sock2 = dir.File("vm2.sock");
  auto kept = StartSimulator(sock2, {"--kernel", "/k", "--no-shutdown"});
  REQUIRE(kept.ok());
  CHECK(Send(sock2, "PUT", "vm.power-button").status == 204);
  HttpResponse info = Send(sock2, "GET", "vm.info");
  CHECK(info.body.find(R"("state":"Created")") != std::string::npos);
  CHECK((*kept)->Running());
}

TEST_CASE("a payload on the command line creates and boots the VM at start") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock, {"--cpus",
                                   "boot=3",
                                   "--memory",
                                   "size=256M",
                                   "--kernel",
                                   "/vmlinux",
                                   "--cmdline",
                                   "console=ttyS0",
                                   "--disk",
                                   "path=/a.raw",
                                   "path=/b.raw",
                                   "--net",
                                   "tap=tap0,mac=52:54:00:00:00:01",
                                   "--serial",
                                   "tty",
                                   "--console",
                                   "off",
                                   "-v",
                                   "--log-file",
                                   dir.File("ch.log")});
  REQUIRE(sim.ok());
  HttpResponse info = Send(sock, "GET", "vm.info");
  CHECK(info.status == 200);
  CHECK(info.body.find(R"("state":"Running")") != std::string::npos);
  CHECK(info.body.find(R"("boot_vcpus":3)") != std::string::npos);
  CHECK(info.body.find(R"("memory_actual_size":268435456)") != std::string::npos);
  CHECK(info.body.find(R"("disks":[{"path":"/a.raw"},{"path":"/b.raw"}])") != std::string::npos);
  CHECK(info.body.find(R"("tap":"tap0")") != std::string::npos);
}

TEST_CASE("the simulator ignores SIGHUP and outlives its parent") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  // Orphans are reparented to this process rather than to PID 1, so the test can reap the
  // simulator and read its exit status once its own parent is gone.
  REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  // A parent that starts the simulator (as hostd does) and exits at once.
  pid_t parent = ::fork();
  REQUIRE(parent >= 0);
  if (parent == 0) {
    pid_t child = ::fork();
    if (child == 0) {
      int in = ::open("/dev/null", O_RDONLY);
      ::dup2(in, 0);
      std::string sim = SimulatorBinary();
      ::execl(sim.c_str(), sim.c_str(), "--api-socket", sock.c_str(), nullptr);
      ::_exit(127);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(parent, &status, 0);
  REQUIRE(WaitForSocket(sock, std::chrono::seconds(10)).ok());
  HttpResponse ping = Send(sock, "GET", "vmm.ping");
  CHECK(ping.status == 200);
  auto pid_at = ping.body.find("\"pid\":");
  REQUIRE(pid_at != std::string::npos);
  pid_t sim_pid = static_cast<pid_t>(std::stol(ping.body.substr(pid_at + 6)));
  REQUIRE(::kill(sim_pid, SIGHUP) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(Send(sock, "GET", "vmm.ping").status == 200);
  // Not our child: end it through the API, as hostd ends an adopted VMM.
  CHECK(Send(sock, "PUT", "vmm.shutdown").status == 200);
  int sim_status = 0;
  REQUIRE(::waitpid(sim_pid, &sim_status, 0) == sim_pid);
  CHECK(WIFEXITED(sim_status));
  CHECK(WEXITSTATUS(sim_status) == 0);
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}

TEST_CASE("an idle simulator stays small") {
  ScratchDir dir;
  std::string sock = dir.File("vm.sock");
  auto sim = StartSimulator(sock, {"--kernel", "/k"});
  REQUIRE(sim.ok());
  for (int i = 0; i < 50; ++i) Send(sock, "GET", "vm.info");
  long rss = RssKb((*sim)->pid());
  CAPTURE(rss);
  CHECK(rss > 0);
  CHECK(rss < 8 * 1024);
}

TEST_CASE("the state machine answers the real server's codes without a process") {
  strato::fakes::SimulatedVmm vmm({});
  strato::fakes::SimAfter after;
  CHECK(vmm.Handle("PUT", "/api/v1/vm.delete", false, "", &after).status == 204);
  CHECK(vmm.Handle("PUT", "/api/v1/vm.create", true, R"({"payload":{"kernel":"k"}})", &after)
            .status == 204);
  CHECK(vmm.Handle("PUT", "/api/v1/vm.resume", false, "", &after).status == 500);
  CHECK(vmm.Handle("PUT", "/api/v1/vm.boot", false, "", &after).status == 204);
  CHECK(vmm.Handle("PUT", "/api/v1/vm.pause", false, "", &after).status == 204);
  CHECK(vmm.Handle("PUT", "/api/v1/vm.pause", false, "", &after).status == 500);
  CHECK(vmm.StateName() == "Paused");
  CHECK(vmm.Handle("PUT", "/api/v1/vm.reboot", false, "", &after).status == 204);
  CHECK(vmm.StateName() == "Running");
  CHECK(vmm.Handle("PUT", "/api/v1/vm.delete", false, "", &after).status == 204);
  CHECK(vmm.StateName() == "NotCreated");
  auto add_disk = vmm.Handle("PUT", "/api/v1/vm.add-disk", true, "{}", &after);
  CHECK(add_disk.status == 500);
  CHECK(add_disk.body.find("does not implement /vm.add-disk") != std::string::npos);
  CHECK(vmm.Handle("PUT", "/api/v1/vmm.shutdown", false, "", &after).status == 200);
  CHECK(after == strato::fakes::SimAfter::kExitVmm);
}
