#include "test/hostd/hypervisor/sim_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace strato::hypervisor_test {
namespace {

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace

std::string SimulatorBinary() {
  return STRATO_CH_SIMULATOR_BIN;
}

std::string ConformanceDir() {
  return STRATO_CH_CONFORMANCE_DIR;
}

ScratchDir::ScratchDir() {
  const char* root = std::getenv("TMPDIR");
  std::string tmpl = std::string(root != nullptr && *root != '\0' ? root : "/tmp") + "/chv-XXXXXX";
  if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Result<std::unique_ptr<SimProcess>> SimProcess::Spawn(const std::vector<std::string>& argv,
                                                      const std::string& log_path,
                                                      bool die_with_parent) {
  if (argv.empty()) return Status::InvalidArgument("No program to start.");
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return Status::Internal(std::string("fork failed: ") + std::strerror(errno) + ".");
  if (pid == 0) {
    if (die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
    }
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in >= 0) ::dup2(in, 0);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  return std::unique_ptr<SimProcess>(new SimProcess(pid, log_path));
}

SimProcess::~SimProcess() {
  if (!Reap(false)) {
    ::kill(pid_, SIGKILL);
    Reap(true);
  }
}

bool SimProcess::Reap(bool block) {
  if (reaped_) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    reaped_ = true;
    exit_code_ = ExitCodeOf(status);
    return true;
  }
  return false;
}

bool SimProcess::Running() {
  return !Reap(false);
}

Status SimProcess::Signal(int signal) {
  if (Reap(false)) return Status::FailedPrecondition("The process has already exited.");
  if (::kill(pid_, signal) != 0) {
    return Status::Internal(std::string("kill failed: ") + std::strerror(errno) + ".");
  }
  return Status::Ok();
}

Result<int> SimProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::DeadlineExceeded("The process is still running.");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return exit_code_;
}

std::string SimProcess::Log() const {
  return ReadFile(log_path_);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WaitForSocket(const std::string& socket_path, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  for (;;) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::close(fd);
    if (rc == 0) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::DeadlineExceeded("Nothing accepted connections on " + socket_path + ".");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

Result<std::unique_ptr<SimProcess>> StartSimulator(const std::string& socket_path,
                                                   const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {SimulatorBinary(), "--api-socket", "path=" + socket_path};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto sim = SimProcess::Spawn(argv, socket_path + ".log");
  if (!sim.ok()) return sim.status();
  Status ready = WaitForSocket(socket_path, std::chrono::seconds(10));
  if (!ready.ok()) {
    return Status(ready.code(), ready.message() + " Simulator log: " + (*sim)->Log());
  }
  return sim;
}

Result<std::string> RawExchange(const std::string& socket_path, const std::string& bytes,
                                std::chrono::milliseconds quiet) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return Status::Unavailable("Cannot connect to " + socket_path + ".");
  }
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string got;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(quiet.count()));
    if (r <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return got;
}

}  // namespace strato::hypervisor_test
