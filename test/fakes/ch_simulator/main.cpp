// cloud-hypervisor-simulator: a test double for the cloud-hypervisor binary. It takes the real
// command line, locks and serves the API socket as the real VMM does, and answers the REST API
// with SimulatedVmm's state machine. It runs no guest.
//
// One thread, one poll loop, no allocation beyond the connections' buffers, so thousands can run
// at once. Signals: SIGUSR1 = the guest crashes the VMM (prints "simulated guest crash" on
// stderr, exit 1); SIGUSR2 = the guest powers off (exit 0 unless --no-shutdown; "simulated guest
// power-off" on stderr, as after vm.power-button unless --ignore-power-button); SIGTERM /
// SIGINT = exit 0; SIGHUP and a closed stdin are ignored, so the VMM outlives its parent.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "test/fakes/ch_simulator/vmm_model.h"

namespace {

using strato::fakes::SimAfter;
using strato::fakes::SimReply;
using strato::fakes::SimulatedVmm;

constexpr size_t kMaxHead = 64 * 1024;
constexpr size_t kMaxBody = 4 << 20;  // the real server's HTTP_PAYLOAD_MAX_SIZE
constexpr size_t kMaxConnections = 64;

const char kUsage[] =
    "Cloud Hypervisor simulator (a test double, not a hypervisor)\n"
    "\n"
    "Serves Cloud Hypervisor's REST API on a unix socket with the real VMM's state machine,\n"
    "status codes and error chains, but runs no guest. For tests and local development only.\n"
    "\n"
    "Usage: cloud-hypervisor-simulator --api-socket path=<socket> [other cloud-hypervisor "
    "options]\n"
    "\n"
    "  --api-socket path=<p> | <p> | fd=<n>  serve the API there (takes <p>.lock like the real "
    "one)\n"
    "  --kernel <k> | --firmware <f>         create and boot a VM at start (with --cpus boot=N,\n"
    "                                        --memory size=512M, --cmdline, --disk path=..,\n"
    "                                        --net tap=..,mac=..)\n"
    "  --no-shutdown                         a guest power-off keeps the VMM running\n"
    "  --ignore-power-button                 (simulator only) the guest ignores vm.power-button:\n"
    "                                        the press is accepted (204) and nothing happens,\n"
    "                                        like a guest without ACPI or a hung one\n"
    "  -h, --help / -V, --version\n"
    "  Other cloud-hypervisor options (--log-file, -v, --serial, --console, ...) are accepted\n"
    "  and ignored. Nothing is logged to stdout.\n"
    "\n"
    "Signals: SIGUSR1 simulates a guest crash (\"simulated guest crash\" on stderr, exit 1);\n"
    "SIGUSR2 simulates a guest power-off (exit 0); SIGTERM/SIGINT exit 0; SIGHUP is ignored.\n"
    "On stderr: \"simulated guest power-off (power button)\" or \"(SIGUSR2)\" when the guest\n"
    "powers off, \"simulated guest ignored the power button\" with --ignore-power-button.\n"
    "Exit codes: 0 after vmm.shutdown or a guest power-off, 1 on a startup error (e.g. the\n"
    "socket is in use by another VMM) or a simulated crash.\n";

// Options that take no value; every other option consumes the following arguments up to the
// next one starting with '-' (the real CLI's multi-valued options, e.g. --disk a b).
bool IsFlag(std::string_view opt) {
  static constexpr std::string_view kFlags[] = {"--dbus-system-bus",
                                                "--ignore-power-button",
                                                "--landlock",
                                                "--no-shutdown",
                                                "--pvmemcontrol",
                                                "--pvpanic",
                                                "--rtc",
                                                "--version",
                                                "--help",
                                                "-V",
                                                "-h"};
  for (std::string_view f : kFlags) {
    if (opt == f) return true;
  }
  return opt.size() >= 2 && opt[0] == '-' && opt[1] == 'v';  // -v, -vv, ...
}

struct Args {
  std::string socket_path;
  int socket_fd = -1;
  bool no_shutdown = false;
  bool ignore_power_button = false;
  bool help = false;
  bool version = false;
  std::string kernel, firmware, igvm, cmdline, cpus, memory;
  std::vector<std::string> disks, nets;
};

// The value of `key` in a "k=v,k=v" option string, or empty.
std::string OptionValue(std::string_view options, std::string_view key) {
  size_t start = 0;
  while (start <= options.size()) {
    size_t end = options.find(',', start);
    if (end == std::string_view::npos) end = options.size();
    std::string_view part = options.substr(start, end - start);
    if (part.size() > key.size() && part.substr(0, key.size()) == key && part[key.size()] == '=') {
      return std::string(part.substr(key.size() + 1));
    }
    start = end + 1;
  }
  return {};
}

bool ParseArgs(int argc, char** argv, Args* args, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::vector<std::string> values;
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      values.push_back(arg.substr(eq + 1));
      arg = arg.substr(0, eq);
    } else if (arg.empty() || arg[0] != '-') {
      *error = "unexpected argument '" + arg + "'";
      return false;
    } else if (!IsFlag(arg)) {
      while (i + 1 < argc && argv[i + 1][0] != '-') values.push_back(argv[++i]);
      if (values.empty()) {
        *error = "a value is required for '" + arg + "' but none was supplied";
        return false;
      }
    }
    auto first = [&values] { return values.empty() ? std::string() : values.front(); };
    if (arg == "--help" || arg == "-h") args->help = true;
    if (arg == "--version" || arg == "-V") args->version = true;
    if (arg == "--no-shutdown") args->no_shutdown = true;
    if (arg == "--ignore-power-button") args->ignore_power_button = true;
    if (arg == "--kernel") args->kernel = first();
    if (arg == "--firmware") args->firmware = first();
    if (arg == "--igvm") args->igvm = first();
    if (arg == "--cmdline") args->cmdline = first();
    if (arg == "--cpus") args->cpus = first();
    if (arg == "--memory") args->memory = first();
    if (arg == "--disk") args->disks.insert(args->disks.end(), values.begin(), values.end());
    if (arg == "--net") args->nets.insert(args->nets.end(), values.begin(), values.end());
    if (arg == "--api-socket") {
      std::string v = first();
      std::string fd = OptionValue(v, "fd");
      std::string path = OptionValue(v, "path");
      if (!fd.empty()) {
        args->socket_fd = std::atoi(fd.c_str());
      } else if (!path.empty()) {
        args->socket_path = path;
      } else {
        args->socket_path = v;
      }
    }
  }
  return true;
}

// "512M" → bytes (K, M, G suffixes as the real CLI takes them).
long long ParseSize(const std::string& s) {
  if (s.empty()) return 0;
  char* end = nullptr;
  long long n = std::strtoll(s.c_str(), &end, 10);
  switch (*end) {
    case 'K':
      return n << 10;
    case 'M':
      return n << 20;
    case 'G':
      return n << 30;
    default:
      return n;
  }
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The VmConfig the real VMM would build from the payload options of its command line.
std::string ConfigFromArgs(const Args& a) {
  int boot = a.cpus.empty() ? 1 : std::atoi(OptionValue(a.cpus, "boot").c_str());
  if (boot < 1) boot = 1;
  std::string max = OptionValue(a.cpus, "max");
  long long memory = ParseSize(OptionValue(a.memory, "size"));
  if (memory <= 0) memory = 512LL << 20;
  std::string json = "{\"cpus\":{\"boot_vcpus\":" + std::to_string(boot) +
                     ",\"max_vcpus\":" + (max.empty() ? std::to_string(boot) : max) + "}";
  json += ",\"memory\":{\"size\":" + std::to_string(memory) + "},\"payload\":{";
  std::string payload;
  auto add = [&payload](const char* key, const std::string& v) {
    if (v.empty()) return;
    if (!payload.empty()) payload += ",";
    payload += std::string("\"") + key + "\":" + JsonString(v);
  };
  add("kernel", a.kernel);
  add("firmware", a.firmware);
  add("igvm", a.igvm);
  add("cmdline", a.cmdline);
  json += payload + "}";
  if (!a.disks.empty()) {
    json += ",\"disks\":[";
    for (size_t i = 0; i < a.disks.size(); ++i) {
      json +=
          (i ? ",{\"path\":" : "{\"path\":") + JsonString(OptionValue(a.disks[i], "path")) + "}";
    }
    json += "]";
  }
  if (!a.nets.empty()) {
    json += ",\"net\":[";
    for (size_t i = 0; i < a.nets.size(); ++i) {
      std::string tap = OptionValue(a.nets[i], "tap"), mac = OptionValue(a.nets[i], "mac");
      json += i ? ",{" : "{";
      json += "\"tap\":" + JsonString(tap);
      if (!mac.empty()) json += ",\"mac\":" + JsonString(mac);
      json += "}";
    }
    json += "]";
  }
  return json + "}";
}

// Prints the real VMM's fatal-error format, naming the simulator.
[[noreturn]] void Fatal(const std::vector<std::string>& chain) {
  std::string text = "Error: Cloud Hypervisor simulator exited with the following ";
  if (chain.size() == 1) {
    text += "error:\n  " + chain[0] + "\n";
  } else {
    text += "chain of errors:\n";
    for (size_t i = 0; i < chain.size(); ++i) {
      text += "  " + std::to_string(i) + ": " + chain[i] + "\n";
    }
  }
  ssize_t ignored = ::write(2, text.data(), text.size());
  (void)ignored;
  std::_Exit(1);
}

// One line on stderr (the simulated guest's events that tests look for in the VMM's log).
void Say(std::string_view line) {
  ssize_t ignored = ::write(2, line.data(), line.size());
  (void)ignored;
}

struct Connection {
  int fd = -1;
  std::string in;
  std::string out;
  bool close_after_write = false;
  bool sent_continue = false;
};

std::string ResponseText(const SimReply& reply) {
  std::string text = "HTTP/1.1 " + std::to_string(reply.status) +
                     " \r\nServer: Cloud Hypervisor API\r\nConnection: keep-alive\r\n";
  // As micro_http: every response but 204 carries Content-Type and Content-Length (0 when there
  // is no body).
  if (reply.status != 204) {
    text +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(reply.body.size()) +
        "\r\n";
  }
  text += "\r\n";
  text += reply.body;
  return text;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

enum class Parse { kIncomplete, kRequest, kBad };

struct Request {
  std::string method;
  std::string path;
  std::string body;
  bool has_body = false;
};

// Takes one request off the front of `c.in`. kBad leaves a reply in `bad` and the connection is
// closed after it (as micro_http does with a request it cannot parse).
Parse NextRequest(Connection& c, Request* req, SimReply* bad) {
  size_t head_end = c.in.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    if (c.in.size() > kMaxHead) {
      *bad = SimReply{400, strato::fakes::ErrorChainJson({"Bad Request", "Header too long"})};
      return Parse::kBad;
    }
    return Parse::kIncomplete;
  }
  std::string_view head(c.in.data(), head_end);
  size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      (line.substr(sp2 + 1) != "HTTP/1.1" && line.substr(sp2 + 1) != "HTTP/1.0")) {
    *bad = SimReply{400, strato::fakes::ErrorChainJson({"Bad Request", "Invalid request line"})};
    return Parse::kBad;
  }
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.rfind("http://", 0) == 0) {  // absolute form: keep the path
    size_t slash = target.find('/', 7);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  target = target.substr(0, target.find('?'));

  size_t length = 0;
  bool expect_continue = false;
  std::string_view rest =
      line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  while (!rest.empty()) {
    size_t e = rest.find("\r\n");
    std::string_view h = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
    size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      *bad = SimReply{400, strato::fakes::ErrorChainJson({"Bad Request", "Invalid header"})};
      return Parse::kBad;
    }
    std::string_view name = h.substr(0, colon);
    std::string_view value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    if (EqualsIgnoreCase(name, "Content-Length")) {
      if (value.empty() || value.size() > 10 ||
          value.find_first_not_of("0123456789") != std::string_view::npos) {
        *bad =
            SimReply{400, strato::fakes::ErrorChainJson({"Bad Request", "Invalid Content-Length"})};
        return Parse::kBad;
      }
      length = std::strtoull(std::string(value).c_str(), nullptr, 10);
    } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      *bad = SimReply{
          400, strato::fakes::ErrorChainJson({"Bad Request", "Transfer-Encoding not supported"})};
      return Parse::kBad;
    } else if (EqualsIgnoreCase(name, "Expect") && EqualsIgnoreCase(value, "100-continue")) {
      expect_continue = true;
    }
  }
  if (length > kMaxBody) {
    *bad = SimReply{413, strato::fakes::ErrorChainJson({"Payload Too Large"})};
    return Parse::kBad;
  }
  size_t total = head_end + 4 + length;
  if (c.in.size() < total) {
    if (expect_continue && !c.sent_continue) {
      c.out += "HTTP/1.1 100 Continue\r\n\r\n";
      c.sent_continue = true;
    }
    return Parse::kIncomplete;
  }
  req->method = std::string(line.substr(0, sp1));
  req->path = std::string(target);
  req->has_body = length > 0;
  req->body = c.in.substr(head_end + 4, length);
  c.in.erase(0, total);
  c.sent_continue = false;
  return Parse::kRequest;
}

// Writes what it can without blocking; returns false when the connection is dead.
bool Flush(Connection& c) {
  while (!c.out.empty()) {
    ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
  if (c.out.capacity() > 16384) c.out.shrink_to_fit();
  return true;
}

// Sends what is left of the replies before exiting (bounded, so a stuck client cannot hold the
// VMM up).
void FlushAllBeforeExit(std::vector<Connection>& conns) {
  for (Connection& c : conns) {
    for (int tries = 0; tries < 100 && !c.out.empty(); ++tries) {
      if (!Flush(c)) break;
      if (!c.out.empty()) {
        pollfd p{c.fd, POLLOUT, 0};
        ::poll(&p, 1, 10);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  std::string arg_error;
  if (!ParseArgs(argc, argv, &args, &arg_error)) {
    std::fprintf(stderr, "error: %s\n\n%s", arg_error.c_str(), kUsage);
    return 1;
  }
  if (args.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args.version) {
    std::puts("cloud-hypervisor-simulator 0.0.0-simulator (a test double, not a hypervisor)");
    return 0;
  }
  if (args.socket_path.empty() && args.socket_fd < 0) {
    Fatal(
        {"The Cloud Hypervisor simulator needs --api-socket path=<socket> (it has no guest to "
         "run without an API)"});
  }

  // Like the real VMM: created files (the socket) are for this user only.
  ::umask(077);
  ::signal(SIGHUP, SIG_IGN);  // outlive the parent's session
  ::signal(SIGPIPE, SIG_IGN);

  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGUSR1);
  sigaddset(&handled, SIGUSR2);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGINT);
  ::sigprocmask(SIG_BLOCK, &handled, nullptr);
  int sfd = ::signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) Fatal({"Cannot create a signalfd", std::strerror(errno)});

  int listen_fd = args.socket_fd;
  if (listen_fd < 0) {
    const std::string& path = args.socket_path;
    // The exclusive lock on <path>.lock (an OFD write lock, as the real VMM takes) keeps two
    // VMMs off one socket; it is released when this process exits, however it exits.
    std::string lock_path = path + ".lock";
    int lock_fd = ::open(lock_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) {
      Fatal({"Failed to start the VMM thread", "Error creating API server socket",
             std::strerror(errno)});
    }
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(lock_fd, F_OFD_SETLK, &fl) != 0) {
      if (errno == EAGAIN || errno == EACCES) {
        Fatal({"Failed to start the VMM thread",
               "API socket \"" + path + "\" is already in use by another running instance"});
      }
      Fatal({"Failed to start the VMM thread", "Error creating API server socket",
             std::strerror(errno)});
    }
    // We hold the lock, so a socket at the path is stale (a crashed VMM's): remove it.
    ::unlink(path.c_str());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
      Fatal({"Failed to start the VMM thread", "Error creating API server socket",
             "path must be shorter than SUN_LEN"});
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listen_fd < 0 || ::bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd, 64) != 0) {
      Fatal({"Failed to start the VMM thread", "Error creating API server socket",
             std::strerror(errno)});
    }
  } else {
    int flags = ::fcntl(listen_fd, F_GETFL);
    ::fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK);
  }

  SimulatedVmm::Options vmm_options;
  vmm_options.no_shutdown = args.no_shutdown;
  vmm_options.ignore_power_button = args.ignore_power_button;
  vmm_options.pid = static_cast<int>(::getpid());
  SimulatedVmm vmm(vmm_options);

  auto exit_clean = [&](int code) {
    if (!args.socket_path.empty()) ::unlink(args.socket_path.c_str());
    std::_Exit(code);
  };

  if (!args.kernel.empty() || !args.firmware.empty() || !args.igvm.empty()) {
    // The real VMM sends itself vm.create and vm.boot when the payload is on its command line.
    std::string error = vmm.CreateAndBoot(ConfigFromArgs(args));
    if (!error.empty()) {
      if (!args.socket_path.empty()) ::unlink(args.socket_path.c_str());
      Fatal({"Error booting VM", error});
    }
  }

  std::vector<Connection> conns;
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({sfd, POLLIN, 0});
    fds.push_back({listen_fd, POLLIN, 0});
    for (const Connection& c : conns) {
      fds.push_back({c.fd, static_cast<short>(c.out.empty() ? POLLIN : (POLLIN | POLLOUT)), 0});
    }
    int n = ::poll(fds.data(), fds.size(), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      Fatal({"The simulator's poll loop failed", std::strerror(errno)});
    }

    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info;
      while (::read(sfd, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGUSR1) {
          static const char kCrash[] = "simulated guest crash\n";
          ssize_t ignored = ::write(2, kCrash, sizeof kCrash - 1);
          (void)ignored;
          std::_Exit(1);  // a crash: the socket stays behind, as a real crash leaves it
        }
        if (info.ssi_signo == SIGUSR2) {
          Say("simulated guest power-off (SIGUSR2)\n");
          if (vmm.GuestShutdown()) exit_clean(0);
        }
        if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) exit_clean(0);
      }
    }

    // Connections first (their indexes in fds are 2..), then accept new ones.
    bool exit_vmm = false;
    bool guest_poweroff = false;
    for (size_t i = 0; i < conns.size(); ++i) {
      Connection& c = conns[i];
      short revents = fds[i + 2].revents;
      bool dead = false;
      if (revents & POLLIN) {
        char buf[4096];
        for (;;) {
          ssize_t r = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
          if (r > 0) {
            c.in.append(buf, static_cast<size_t>(r));
            if (c.in.size() > kMaxHead + kMaxBody) break;
            continue;
          }
          if (r < 0 && errno == EINTR) continue;
          if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
          dead = true;  // EOF or error
          break;
        }
        while (!c.close_after_write) {
          Request req;
          SimReply bad;
          Parse p = NextRequest(c, &req, &bad);
          if (p == Parse::kIncomplete) break;
          if (p == Parse::kBad) {
            c.out += ResponseText(bad);
            c.close_after_write = true;
            c.in.clear();
            break;
          }
          SimAfter after = SimAfter::kNothing;
          c.out += ResponseText(vmm.Handle(req.method, req.path, req.has_body, req.body, &after));
          if (after == SimAfter::kExitVmm) exit_vmm = true;
          if (after == SimAfter::kGuestPoweroff) guest_poweroff = true;
          if (after == SimAfter::kButtonIgnored) Say("simulated guest ignored the power button\n");
        }
        if (c.in.capacity() > 16384 && c.in.size() < 1024) c.in.shrink_to_fit();
      } else if (revents & (POLLHUP | POLLERR)) {
        dead = true;
      }
      if (!Flush(c)) dead = true;
      if (dead || (c.close_after_write && c.out.empty())) {
        ::close(c.fd);
        c.fd = -1;
      }
    }
    if (exit_vmm || guest_poweroff) {
      FlushAllBeforeExit(conns);
      if (exit_vmm) exit_clean(0);
      Say("simulated guest power-off (power button)\n");
      if (vmm.GuestShutdown()) exit_clean(0);
    }
    std::erase_if(conns, [](const Connection& c) { return c.fd < 0; });

    if (fds[1].revents & POLLIN) {
      for (;;) {
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        if (conns.size() >= kMaxConnections) {
          ::close(fd);
          continue;
        }
        conns.push_back(Connection{fd, {}, {}, false, false});
      }
    }
  }
}
