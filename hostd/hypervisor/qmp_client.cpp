#include "hostd/hypervisor/qmp_client.h"

#include <poll.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/json_writer.h"

namespace strato::hostd {

namespace {

std::string JsonText(const rapidjson::Value& v) {
  JsonWriter w;
  w.Copy(v);
  return w.Text();
}

int IntMember(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsInt() ? it->value.GetInt() : 0;
}

}  // namespace

std::string QmpVersion::ToString() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(micro);
}

Result<QmpClient> QmpClient::Connect(const std::string& socket_path,
                                     std::chrono::milliseconds timeout) {
  const auto deadline = SocketClock::now() + timeout;
  auto fd = ConnectUnix(socket_path, "QMP socket", deadline);
  if (!fd.ok()) return fd.status();
  QmpClient client(std::move(*fd), socket_path);

  // The greeting: {"QMP": {"version": {"qemu": {"major": 7, ...}, ...}, "capabilities": [...]}}
  auto greeting = client.ReadLine(deadline);
  if (!greeting.ok()) return greeting.status().WithContext("waiting for QEMU's QMP greeting");
  rapidjson::Document doc;
  doc.Parse(greeting->data(), greeting->size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("QMP") || !doc["QMP"].IsObject()) {
    return Status::Internal("The QMP socket " + socket_path +
                            " did not greet with a QMP object; is it QEMU's?");
  }
  const rapidjson::Value& qmp = doc["QMP"];
  if (qmp.HasMember("version") && qmp["version"].IsObject() && qmp["version"].HasMember("qemu") &&
      qmp["version"]["qemu"].IsObject()) {
    const rapidjson::Value& q = qmp["version"]["qemu"];
    client.version_ = {IntMember(q, "major"), IntMember(q, "minor"), IntMember(q, "micro")};
  }
  auto caps = client.Execute("qmp_capabilities", "", timeout);
  if (!caps.ok()) return caps.status();
  return client;
}

Result<std::string> QmpClient::Execute(std::string_view command, std::string_view arguments,
                                       std::chrono::milliseconds timeout) {
  const auto deadline = SocketClock::now() + timeout;
  JsonWriter w;
  w.BeginObject().Str("execute", command);
  if (!arguments.empty()) w.Raw("arguments", arguments);
  w.EndObject();
  std::string line = w.Text() + "\n";
  const std::string what = "QMP " + std::string(command);
  STRATO_RETURN_IF_ERROR(Send(line, deadline).WithContext(what));
  auto reply = ReadReply(deadline);
  if (!reply.ok()) return reply.status().WithContext(what);
  rapidjson::Document doc;
  doc.Parse(reply->data(), reply->size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status::Internal(what + ": the answer is not a JSON object");
  }
  if (auto ret = doc.FindMember("return"); ret != doc.MemberEnd()) return JsonText(ret->value);
  auto err = doc.FindMember("error");
  if (err == doc.MemberEnd() || !err->value.IsObject()) {
    return Status::Internal(what + ": the answer has neither a return nor an error");
  }
  std::string cls = "GenericError", desc = "(no description)";
  if (auto c = err->value.FindMember("class"); c != err->value.MemberEnd() && c->value.IsString()) {
    cls = c->value.GetString();
  }
  if (auto d = err->value.FindMember("desc"); d != err->value.MemberEnd() && d->value.IsString()) {
    desc = d->value.GetString();
  }
  return Status::FailedPrecondition(what + ": " + desc).WithReason(cls);
}

std::vector<QmpEvent> QmpClient::TakeEvents() {
  std::vector<QmpEvent> out;
  out.swap(events_);
  return out;
}

Result<std::string> QmpClient::ReadReply(SocketClock::time_point deadline) {
  for (;;) {
    auto line = ReadLine(deadline);
    if (!line.ok()) return line;
    rapidjson::Document doc;
    doc.Parse(line->data(), line->size());
    if (!doc.HasParseError() && doc.IsObject()) {
      auto ev = doc.FindMember("event");
      if (ev != doc.MemberEnd() && ev->value.IsString()) {
        auto data = doc.FindMember("data");
        events_.push_back(
            {ev->value.GetString(), data != doc.MemberEnd() ? JsonText(data->value) : "{}"});
        continue;
      }
    }
    return line;
  }
}

Result<std::string> QmpClient::ReadLine(SocketClock::time_point deadline) {
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      return line;
    }
    if (buffer_.size() > kMaxLineBytes) {
      return Status::Internal("QEMU sent a line longer than " + std::to_string(kMaxLineBytes) +
                              " bytes on " + socket_path_);
    }
    if (!WaitFor(fd_.get(), POLLIN, deadline)) {
      return Status::DeadlineExceeded("QEMU did not answer on " + socket_path_ + " in time");
    }
    char chunk[4096];
    ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
    } else if (n == 0) {
      return Status::Unavailable("QEMU closed the QMP socket " + socket_path_);
    } else if (errno != EINTR && errno != EAGAIN) {
      return Status::Unavailable("Reading the QMP socket " + socket_path_ + ": " +
                                 std::strerror(errno));
    }
  }
}

Status QmpClient::Send(std::string_view text, SocketClock::time_point deadline) {
  while (!text.empty()) {
    if (!WaitFor(fd_.get(), POLLOUT, deadline)) {
      return Status::DeadlineExceeded("QEMU did not take a command on " + socket_path_ +
                                      " in time");
    }
    ssize_t n = ::send(fd_.get(), text.data(), text.size(), MSG_NOSIGNAL);
    if (n > 0) {
      text.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
      return Status::Unavailable("Writing to the QMP socket " + socket_path_ + ": " +
                                 std::strerror(errno));
    }
  }
  return Status::Ok();
}

}  // namespace strato::hostd
