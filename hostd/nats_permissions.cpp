#include "hostd/nats_permissions.h"

#include "events/hosts/host_protocol.h"

namespace strato::hostd {
namespace {

// Values are written in double quotes; refuse what would need escaping.
Status CheckValue(const std::string& what, const std::string& v) {
  if (v.empty()) return Status::InvalidArgument(what + " must not be empty");
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || u < 0x20 || u == 0x7F) {
      return Status::InvalidArgument(what +
                                     " must not contain quotes, backslashes or control "
                                     "characters");
    }
  }
  return Status::Ok();
}

std::string Quoted(const std::string& v) {
  return "\"" + v + "\"";
}

std::string List(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += Quoted(items[i]);
  }
  return out + "]";
}

}  // namespace

std::string HostInboxPrefix(const std::string& host_id) {
  return "_INBOX_" + host_id;
}

Result<std::string> NatsAuthorizationBlock(const NatsPermissionsSpec& spec) {
  STRATO_RETURN_IF_ERROR(CheckValue("the control plane's NATS user", spec.control_plane.user));
  STRATO_RETURN_IF_ERROR(
      CheckValue("the control plane's NATS password", spec.control_plane.password));
  std::string out = "authorization {\n  users = [\n";
  out += "    {user: " + Quoted(spec.control_plane.user) +
         ", password: " + Quoted(spec.control_plane.password) +
         ", permissions: {publish: \">\", subscribe: \">\"}}\n";
  for (const HostNatsUser& h : spec.hosts) {
    STRATO_RETURN_IF_ERROR(events::ValidateHostId(h.host_id));
    STRATO_RETURN_IF_ERROR(CheckValue("the NATS user of host " + h.host_id, h.credentials.user));
    STRATO_RETURN_IF_ERROR(
        CheckValue("the NATS password of host " + h.host_id, h.credentials.password));
    const std::string& id = h.host_id;
    std::vector<std::string> publish = {
        "strato.rpc.host." + id + ".>",
        "strato.host." + id + ".heartbeat",
        "$JS.API.CONSUMER.CREATE." + spec.stream + ".*.strato.events.vm." + id + ".>",
        "$JS.FC." + spec.stream + ".>",
    };
    std::vector<std::string> subscribe = {HostInboxPrefix(id) + ".>"};
    out += "    {user: " + Quoted(h.credentials.user) +
           ", password: " + Quoted(h.credentials.password) +
           ", permissions: {publish: {allow: " + List(publish) +
           "}, subscribe: {allow: " + List(subscribe) + "}}}\n";
  }
  out += "  ]\n}\n";
  return out;
}

Result<std::string> NatsServerConfig(const NatsPermissionsSpec& spec, const std::string& listen,
                                     const std::string& store_dir) {
  auto auth = NatsAuthorizationBlock(spec);
  if (!auth.ok()) return auth.status();
  STRATO_RETURN_IF_ERROR(CheckValue("the listen address", listen));
  STRATO_RETURN_IF_ERROR(CheckValue("the JetStream store folder", store_dir));
  return "listen: " + Quoted(listen) + "\njetstream {\n  store_dir: " + Quoted(store_dir) +
         "\n}\n" + *auth;
}

}  // namespace strato::hostd
