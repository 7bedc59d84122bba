// QmpClient: one session of the QEMU Machine Protocol on a unix socket (QEMU's `-qmp
// unix:<path>,server=on,wait=off`), as the QEMU driver uses it: connect, read the greeting
// (which carries QEMU's version), leave capabilities negotiation mode, then run commands one at
// a time and read their answers.
//
// QMP speaks JSON objects, one per line. An answer is {"return": ...} or {"error": {"class",
// "desc"}}; asynchronous {"event": ...} objects may arrive at any time and are kept for
// TakeEvents(). Every call blocks its thread until an answer or its deadline; a client is used
// by one thread at a time (the driver serializes calls on one VM). Lines are bounded
// (kMaxLineBytes) so a broken peer cannot make us buffer without end.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "hostd/hypervisor/unix_socket.h"

namespace strato::hostd {

struct QmpVersion {
  int major = 0, minor = 0, micro = 0;
  std::string ToString() const;  // "7.2.0"
};

struct QmpEvent {
  std::string name;  // "SHUTDOWN", "STOP", "RESUME", "RESET", ...
  std::string data;  // its "data" object as JSON text ("{}" when absent)
};

class QmpClient {
 public:
  static constexpr size_t kMaxLineBytes = 1 << 20;

  // Connects and negotiates before `timeout` passes. kUnavailable when nothing answers at
  // `socket_path`; kDeadlineExceeded when QEMU does not greet in time; kInternal when what it
  // sends is not QMP.
  static Result<QmpClient> Connect(const std::string& socket_path,
                                   std::chrono::milliseconds timeout);

  QmpClient(QmpClient&&) = default;
  QmpClient& operator=(QmpClient&&) = default;

  // Runs `command` with `arguments` (a JSON object's text; empty for none) and returns the
  // "return" value as JSON text. A QMP error becomes kFailedPrecondition whose message is
  // "QMP <command>: <desc>" and whose reason is the error class ("GenericError",
  // "CommandNotFound", ...); a closed connection kUnavailable; no answer in time
  // kDeadlineExceeded (the session is then unusable: connect again).
  Result<std::string> Execute(std::string_view command, std::string_view arguments = "",
                              std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // The events received so far, oldest first, and forgets them.
  std::vector<QmpEvent> TakeEvents();

  const QmpVersion& version() const { return version_; }

 private:
  QmpClient(UniqueFd fd, std::string socket_path)
      : fd_(std::move(fd)), socket_path_(std::move(socket_path)) {}

  // The next JSON line that is not an event (events are queued), before `deadline`.
  Result<std::string> ReadReply(SocketClock::time_point deadline);
  Result<std::string> ReadLine(SocketClock::time_point deadline);
  Status Send(std::string_view text, SocketClock::time_point deadline);

  UniqueFd fd_;
  std::string socket_path_;
  std::string buffer_;  // bytes received and not yet taken as lines
  std::vector<QmpEvent> events_;
  QmpVersion version_;
};

}  // namespace strato::hostd
