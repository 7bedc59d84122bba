// NATS permissions for hosts: generates the `authorization` block of a nats-server
// configuration in which the control plane has one user that may do everything and each host
// has its own user that may only
//   publish   its requests (strato.rpc.host.<id>.>), its heartbeats (strato.host.<id>.heartbeat),
//             the JetStream request creating a consumer filtered to its own VM events
//             ($JS.API.CONSUMER.CREATE.<stream>.*.strato.events.vm.<id>.>; the server checks
//             that the filter inside the request is the one in the subject) and flow-control
//             answers;
//   subscribe only to its own inbox prefix _INBOX_<id>.> (replies and event delivery; hostd
//             sets that prefix).
// So host A can neither read host B's events nor send requests or heartbeats as host B; the
// control plane checks in addition that a report's host is the VM's host. Pure functions.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace strato::hostd {

struct NatsCredentials {
  std::string user;
  std::string password;
};

struct HostNatsUser {
  std::string host_id;
  NatsCredentials credentials;
};

struct NatsPermissionsSpec {
  NatsCredentials control_plane;  // strato serve (relay, projections, host control)
  std::vector<HostNatsUser> hosts;
  std::string stream = "STRATO_EVENTS";
};

// The inbox prefix hostd uses, so replies and deliveries to a host stay under its own subjects.
std::string HostInboxPrefix(const std::string& host_id);

// "authorization { users = [ ... ] }", to be placed in a nats-server configuration file.
// kInvalidArgument for a bad host id or a user/password with characters the format cannot hold.
Result<std::string> NatsAuthorizationBlock(const NatsPermissionsSpec& spec);

// A whole nats-server configuration: listen address, JetStream store and the authorization.
Result<std::string> NatsServerConfig(const NatsPermissionsSpec& spec, const std::string& listen,
                                     const std::string& store_dir);

}  // namespace strato::hostd
