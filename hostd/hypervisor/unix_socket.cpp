#include "hostd/hypervisor/unix_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace strato::hostd {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = other.Release();
  }
  return *this;
}

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int MillisLeft(SocketClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SocketClock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(left.count());
}

bool WaitFor(int fd, short events, SocketClock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, MillisLeft(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return true;  // let the following call report the error
  }
}

Result<UniqueFd> ConnectUnix(const std::string& socket_path, std::string_view what,
                             SocketClock::time_point deadline) {
  const std::string named = "the " + std::string(what) + " " + socket_path;
  sockaddr_un addr{};
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) {
    return Status::InvalidArgument("The path of " + named + " is empty or longer than " +
                                   std::to_string(sizeof addr.sun_path - 1) + " bytes.");
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) {
    return Status::Unavailable("Cannot make a socket for " + named + ": " + std::strerror(errno) +
                               ".");
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  for (;;) {
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
    int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN) {
      // The listener's backlog is full: a unix socket does not queue the attempt, so retry.
      if (MillisLeft(deadline) == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (err == EINPROGRESS) {
      if (!WaitFor(fd.get(), POLLOUT, deadline)) break;
      int so_error = 0;
      socklen_t len = sizeof so_error;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len);
      if (so_error == 0) return fd;
      err = so_error;
    }
    if (err == ENOENT) {
      return Status::Unavailable("There is no " + std::string(what) + " at " + socket_path +
                                 " (is the VMM running?).");
    }
    if (err == ECONNREFUSED) {
      return Status::Unavailable("Nothing is listening on " + named +
                                 " (connection refused; the VMM may have exited).");
    }
    return Status::Unavailable("Cannot connect to " + named + ": " + std::strerror(err) + ".");
  }
  return Status::Unavailable("Connecting to " + named + " timed out.");
}

}  // namespace strato::hostd
