// NatsLink: hostd's NATS connection, attached to its libuv loop through nats.c's libuv adapter
// (the connection's socket is read and written by the loop). It publishes (heartbeats), sends
// requests (register, desired, report) and follows the VM events of one host with an ordered
// push consumer from a start position.
//
// Threading: Connect runs on the loop thread before the loop runs. Publish may be called from
// any thread. Request and Follow block until the server answers, which needs the loop to run,
// so they must NOT be called on the loop thread (hostd calls them from uv_queue_work). Follow's
// callback runs on a nats.c delivery thread; hostd hands each message to its loop. Ownership:
// a Follow must be destroyed before its NatsLink; NatsLink owns its natsConnection.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"

typedef struct uv_loop_s uv_loop_t;

namespace strato::events {

struct NatsLinkOptions {
  std::string url;  // nats://host:port, or a comma-separated list (events::SplitNatsUrls)
  std::string name = "strato-hostd";
  std::string user;  // empty: none (or in the URL)
  std::string password;
  std::string inbox_prefix;  // empty: nats.c's default _INBOX
};

class NatsFollow {
 public:
  virtual ~NatsFollow() = default;  // unsubscribes; no callback runs after it returns
};

class NatsLink {
 public:
  // kUnavailable when the server cannot be reached (the caller retries). A null loop gives a
  // connection on nats.c's own threads (for tools and tests); then any thread may call.
  static Result<std::unique_ptr<NatsLink>> Connect(uv_loop_t* loop, const NatsLinkOptions& options);
  ~NatsLink();
  NatsLink(const NatsLink&) = delete;
  NatsLink& operator=(const NatsLink&) = delete;

  bool connected() const;
  Status Publish(const std::string& subject, const std::string& payload);
  // A request whose reply goes to `reply_to`, without waiting for it (tools and tests).
  Status PublishRequest(const std::string& subject, const std::string& reply_to,
                        const std::string& payload);
  Result<std::string> Request(const std::string& subject, const std::string& payload,
                              std::chrono::milliseconds timeout);

  // (sequence, payload); a gap-free, in-order stream of the messages after `after_sequence`.
  using OnMessage = std::function<void(int64_t sequence, std::string payload)>;
  Result<std::unique_ptr<NatsFollow>> Follow(const std::string& stream, const std::string& filter,
                                             int64_t after_sequence, OnMessage on_message);

  // Closes the connection (on the loop thread, before the loop's handles are closed).
  void Close();

  struct Impl;

 private:
  explicit NatsLink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace strato::events
