#include "test/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

extern char** environ;

namespace strato::test {
namespace {

std::string ErrnoText(int err) {
  return std::strerror(err);
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

bool LogContains(const std::string& path, uintmax_t offset, const std::string& needle) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string text;
  char buf[4096];
  ssize_t n;
  if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) >= 0) {
    while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text.find(needle) != std::string::npos;
}

// $STRATO_NATS_SERVER_BIN, else the first of /usr/bin, /usr/sbin (Debian's place) and $PATH.
std::string NatsServerBinary() {
  const char* bin = std::getenv("STRATO_NATS_SERVER_BIN");
  if (bin != nullptr && *bin != '\0') return bin;
  std::vector<std::string> candidates = {"/usr/bin/nats-server", "/usr/sbin/nats-server"};
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    size_t start = 0;
    while (start <= p.size()) {
      size_t end = p.find(':', start);
      if (end == std::string::npos) end = p.size();
      if (end > start) candidates.push_back(p.substr(start, end - start) + "/nats-server");
      start = end + 1;
    }
  }
  for (const std::string& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) return c;
  }
  return "/usr/bin/nats-server";
}

}  // namespace

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
  }
  ::close(fd);
  return port;
}

Status WaitForPort(int port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return Status::Internal("socket: " + ErrnoText(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::close(fd);
    if (rc == 0) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::DeadlineExceeded(
          "nothing accepted connections on 127.0.0.1:" + std::to_string(port) + " within " +
          std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string TestTempRoot() {
  for (const char* var : {"STRATO_TEST_TMPDIR", "TMPDIR"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return v;
  }
  return "/tmp";
}

Result<std::string> MakeTempDir(const std::string& prefix) {
  std::string templ = TestTempRoot() + "/" + prefix + "XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return Status::Internal("creating a directory like " + templ + ": " + ErrnoText(errno));
  }
  return std::string(buf.data());
}

Result<std::unique_ptr<TempDir>> TempDir::Make(const std::string& prefix) {
  auto path = MakeTempDir(prefix);
  if (!path.ok()) return path.status();
  return std::unique_ptr<TempDir>(new TempDir(*path));
}

TempDir::~TempDir() {
  const char* keep = std::getenv("STRATO_KEEP_TMPDIR");
  if (keep != nullptr && std::string(keep) == "1") return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

// ---------------------------------------------------------------------------------------------
// ChildProcess

Result<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const ChildOptions& options) {
  if (options.argv.empty()) return Status::InvalidArgument("spawning a process: no argv");
  const std::string& program = options.argv[0];

  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : options.env) env[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = options.argv;
  std::vector<char*> argv;
  for (std::string& s : argv_copy) argv.push_back(s.data());
  argv.push_back(nullptr);

  const std::string log_path = options.log_path.empty() ? "/dev/null" : options.log_path;
  int out_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out_fd < 0) {
    return Status::Internal("opening " + log_path + " for " + program + ": " + ErrnoText(errno));
  }
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  // A pipe that closes on exec tells the parent whether exec worked.
  int exec_pipe[2];
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    ::close(out_fd);
    if (null_fd >= 0) ::close(null_fd);
    return Status::Internal("pipe: " + ErrnoText(errno));
  }
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(out_fd);
    if (null_fd >= 0) ::close(null_fd);
    ::close(exec_pipe[0]);
    ::close(exec_pipe[1]);
    return Status::Internal("fork: " + ErrnoText(err));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(out_fd, STDERR_FILENO);
    ::setpgid(0, 0);  // signals to the test's group (Ctrl-C) are the test's business
    ::execve(argv[0], argv.data(), envp.data());
    int err = errno;
    ssize_t ignored = ::write(exec_pipe[1], &err, sizeof err);
    (void)ignored;
    ::_exit(127);
  }
  ::close(out_fd);
  if (null_fd >= 0) ::close(null_fd);
  ::close(exec_pipe[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(exec_pipe[0]);
  auto child = std::unique_ptr<ChildProcess>(new ChildProcess(pid, log_path));
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    (void)child->Wait(std::chrono::seconds(5));
    return Status::Internal("starting " + program + ": " + ErrnoText(child_errno));
  }
  return child;
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    Reap(true);
  }
}

bool ChildProcess::Reap(bool block) {
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
  if (r < 0) {  // not our child any more (reaped elsewhere): treat as gone
    reaped_ = true;
    return true;
  }
  return false;
}

bool ChildProcess::Running() {
  return !Reap(false);
}

Status ChildProcess::Kill(int signal) {
  if (reaped_) return Status::FailedPrecondition("process " + std::to_string(pid_) + " has exited");
  if (::kill(pid_, signal) != 0) {
    return Status::Internal("kill " + std::to_string(pid_) + ": " + ErrnoText(errno));
  }
  return Status::Ok();
}

Result<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::DeadlineExceeded("process " + std::to_string(pid_) +
                                      " is still running after " + std::to_string(timeout.count()) +
                                      " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

// ---------------------------------------------------------------------------------------------
// NatsServerProcess

NatsServerProcess::NatsServerProcess(std::string store_dir) : store_dir_(std::move(store_dir)) {}

NatsServerProcess::~NatsServerProcess() {
  if (child_ != nullptr) (void)Kill();  // its data is about to go: no need to be gentle
  child_.reset();
  own_dir_.reset();
}

Status NatsServerProcess::StartOnce() {
  std::string binary = NatsServerBinary();
  ChildOptions co;
  co.argv = {binary, "-js", "-a", "127.0.0.1", "-p", std::to_string(port_), "-sd", store_dir_};
  co.log_path = log_path_;
  // Readiness is "this start logged 'Server is ready'" and the port accepts: the port alone
  // could be answered by some other process that took it.
  std::error_code ec;
  auto log_offset =
      std::filesystem::exists(log_path_, ec) ? std::filesystem::file_size(log_path_, ec) : 0;
  auto child = ChildProcess::Spawn(co);
  if (!child.ok()) return child.status();
  child_ = std::move(child).value();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (true) {
    if (!child_->Running()) {
      auto code = child_->Wait(std::chrono::milliseconds(0));
      child_.reset();
      return Status::Unavailable("nats-server exited with " +
                                 std::to_string(code.ok() ? *code : -1) + " on port " +
                                 std::to_string(port_) + "; see " + log_path_);
    }
    if (LogContains(log_path_, log_offset, "Server is ready") &&
        WaitForPort(port_, std::chrono::milliseconds(0)).ok()) {
      return Status::Ok();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::DeadlineExceeded("nats-server did not accept connections on port " +
                                      std::to_string(port_) + " within 20 s; see " + log_path_);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status NatsServerProcess::Start() {
  if (child_ != nullptr && child_->Running()) return Status::Ok();
  child_.reset();
  if (store_dir_.empty()) {
    auto dir = TempDir::Make("strato-nats-");
    if (!dir.ok()) return dir.status();
    own_dir_ = std::move(dir).value();
    store_dir_ = own_dir_->path() + "/store";
    log_path_ = own_dir_->path() + "/nats.log";
  }
  if (log_path_.empty()) log_path_ = store_dir_ + ".log";
  if (port_ != 0) return StartOnce();
  // The first start picks a port; another process may take it between FreePort and bind.
  Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreePort();
    if (port_ == 0) return Status::Internal("no free TCP port on 127.0.0.1");
    last = StartOnce();
    if (last.ok()) return last;
  }
  port_ = 0;
  return last;
}

Status NatsServerProcess::Stop() {
  if (child_ == nullptr) return Status::Ok();
  if (child_->Running()) {
    (void)child_->Kill(SIGTERM);
    if (!child_->Wait(std::chrono::seconds(10)).ok()) {
      (void)child_->Kill(SIGKILL);
      (void)child_->Wait(std::chrono::seconds(10));
    }
  }
  child_.reset();
  return Status::Ok();
}

Status NatsServerProcess::Kill() {
  if (child_ == nullptr) return Status::Ok();
  if (child_->Running()) {
    (void)child_->Kill(SIGKILL);
    (void)child_->Wait(std::chrono::seconds(10));
  }
  child_.reset();
  return Status::Ok();
}

Status NatsServerProcess::Restart() {
  STRATO_RETURN_IF_ERROR(Stop());
  return Start();
}

bool NatsServerProcess::Running() {
  return child_ != nullptr && child_->Running();
}

std::string NatsServerProcess::url() const {
  return "nats://127.0.0.1:" + std::to_string(port_);
}

}  // namespace strato::test
