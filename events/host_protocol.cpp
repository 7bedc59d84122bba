#include "events/host_protocol.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace strato::events {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, const char* key, std::string_view v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}
void Int(Writer& w, const char* key, int64_t v) {
  w.Key(key);
  w.Int64(v);
}
void Dbl(Writer& w, const char* key, double v) {
  w.Key(key);
  w.Double(v);
}
void OptStr(Writer& w, const char* key, const std::optional<std::string>& v) {
  if (v) return Str(w, key, *v);
  w.Key(key);
  w.Null();
}

std::string Done(rapidjson::StringBuffer& b) {
  return std::string(b.GetString(), b.GetSize());
}

// Reads fields of one JSON object, remembering the first problem as a sentence.
class Fields {
 public:
  Fields(const rapidjson::Value& v, std::string what) : v_(v), what_(std::move(what)) {}
  std::string Str(const char* key, bool required = true) {
    auto it = v_.FindMember(key);
    if (it == v_.MemberEnd() || it->value.IsNull()) {
      if (required) Fail(std::string("has no \"") + key + "\"");
      return "";
    }
    if (!it->value.IsString()) {
      Fail(std::string("has a \"") + key + "\" that is not a string");
      return "";
    }
    return std::string(it->value.GetString(), it->value.GetStringLength());
  }
  std::optional<std::string> OptStr(const char* key) {
    auto it = v_.FindMember(key);
    if (it == v_.MemberEnd() || it->value.IsNull()) return std::nullopt;
    return Str(key);
  }
  int64_t Int(const char* key, bool required = true) {
    auto it = v_.FindMember(key);
    if (it == v_.MemberEnd() || it->value.IsNull()) {
      if (required) Fail(std::string("has no \"") + key + "\"");
      return 0;
    }
    if (!it->value.IsInt64()) {
      Fail(std::string("has a \"") + key + "\" that is not a whole number");
      return 0;
    }
    return it->value.GetInt64();
  }
  double Dbl(const char* key) {
    auto it = v_.FindMember(key);
    if (it == v_.MemberEnd() || !it->value.IsNumber()) return 0;
    return it->value.GetDouble();
  }
  bool Bool(const char* key) {
    auto it = v_.FindMember(key);
    return it != v_.MemberEnd() && it->value.IsBool() && it->value.GetBool();
  }
  const Status& status() const { return status_; }

 private:
  void Fail(const std::string& why) {
    if (status_.ok()) status_ = Status::InvalidArgument(what_ + " " + why);
  }
  const rapidjson::Value& v_;
  std::string what_;
  Status status_;
};

Result<rapidjson::Document> Parse(std::string_view json, const std::string& what) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) {
    return Status::InvalidArgument(what + " is not a JSON object");
  }
  return d;
}

constexpr std::pair<Code, const char*> kCodeNames[] = {
    {Code::kOk, "ok"},
    {Code::kInvalidArgument, "invalid_argument"},
    {Code::kNotFound, "not_found"},
    {Code::kAlreadyExists, "already_exists"},
    {Code::kConflict, "conflict"},
    {Code::kFailedPrecondition, "failed_precondition"},
    {Code::kPermissionDenied, "permission_denied"},
    {Code::kUnauthenticated, "unauthenticated"},
    {Code::kUnavailable, "unavailable"},
    {Code::kDeadlineExceeded, "deadline_exceeded"},
    {Code::kInternal, "internal"},
};

}  // namespace

std::string HostRpcSubject(std::string_view host_id, std::string_view verb) {
  return "strato.rpc.host." + std::string(host_id) + "." + std::string(verb);
}

std::string HostHeartbeatSubject(std::string_view host_id) {
  return "strato.host." + std::string(host_id) + ".heartbeat";
}

Status ValidateHostId(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 64;
  for (char c : id) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_');
  }
  if (ok) return Status::Ok();
  return Status::InvalidArgument("a host id is 1 to 64 letters, digits, '-' or '_'; \"" +
                                 std::string(id) + "\" is not");
}

std::string CodeWireName(Code code) {
  for (const auto& [c, n] : kCodeNames) {
    if (c == code) return n;
  }
  return "internal";
}

Code CodeFromWireName(std::string_view name) {
  for (const auto& [c, n] : kCodeNames) {
    if (name == n) return c;
  }
  return Code::kInternal;
}

std::string EncodeRegistration(const HostRegistration& r) {
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  Str(w, "name", r.name);
  Str(w, "address", r.address);
  Int(w, "cpu_count", r.cpu_count);
  Int(w, "memory_mb", r.memory_mb);
  Int(w, "disk_gb", r.disk_gb);
  Str(w, "hypervisor_kind", r.hypervisor_kind);
  Str(w, "hypervisor_version", r.hypervisor_version);
  Int(w, "heartbeat_interval_ms", r.heartbeat_interval_ms);
  w.EndObject();
  return Done(b);
}

Result<HostRegistration> DecodeRegistration(std::string_view json) {
  auto d = Parse(json, "a registration");
  if (!d.ok()) return d.status();
  Fields f(*d, "a registration");
  HostRegistration r;
  r.name = f.Str("name");
  r.address = f.Str("address");
  r.cpu_count = f.Int("cpu_count");
  r.memory_mb = f.Int("memory_mb");
  r.disk_gb = f.Int("disk_gb");
  r.hypervisor_kind = f.Str("hypervisor_kind");
  r.hypervisor_version = f.Str("hypervisor_version");
  r.heartbeat_interval_ms = f.Int("heartbeat_interval_ms", false);
  if (!f.status().ok()) return f.status();
  return r;
}

std::string EncodeDesiredRequest(const DesiredRequest& r) {
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  if (!r.vm_ids.empty()) {
    w.Key("vm_ids");
    w.StartArray();
    for (const auto& id : r.vm_ids)
      w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
    w.EndArray();
  }
  Int(w, "min_position", r.min_position);
  w.EndObject();
  return Done(b);
}

Result<DesiredRequest> DecodeDesiredRequest(std::string_view json) {
  DesiredRequest r;
  if (json.empty()) return r;
  auto d = Parse(json, "a desired-state request");
  if (!d.ok()) return d.status();
  Fields f(*d, "a desired-state request");
  r.min_position = f.Int("min_position", false);
  auto it = d->FindMember("vm_ids");
  if (it != d->MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsArray()) {
      return Status::InvalidArgument("a desired-state request's vm_ids must be a list of strings");
    }
    for (const auto& v : it->value.GetArray()) {
      if (!v.IsString()) {
        return Status::InvalidArgument(
            "a desired-state request's vm_ids must be a list of strings");
      }
      r.vm_ids.emplace_back(v.GetString(), v.GetStringLength());
    }
  }
  if (!f.status().ok()) return f.status();
  return r;
}

std::string EncodeDesiredReply(const DesiredReply& r) {
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  w.Key("ok");
  w.Bool(true);
  Int(w, "position", r.position);
  w.Key("vms");
  w.StartArray();
  for (const DesiredVm& v : r.vms) {
    w.StartObject();
    Str(w, "vm_id", v.vm_id);
    Str(w, "name", v.name);
    Str(w, "image", v.image);
    Int(w, "cpu_count", v.cpu_count);
    Int(w, "memory_mb", v.memory_mb);
    Int(w, "disk_gb", v.disk_gb);
    Str(w, "desired", v.desired);
    Int(w, "generation", v.generation);
    Str(w, "last_action", v.last_action);
    w.Key("force");
    w.Bool(v.force);
    Int(w, "position", v.position);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Done(b);
}

Result<DesiredReply> DecodeDesiredReply(std::string_view json) {
  Status s = ReplyStatus(json);
  if (!s.ok()) return s;
  auto d = Parse(json, "a desired-state reply");
  if (!d.ok()) return d.status();
  Fields f(*d, "a desired-state reply");
  DesiredReply r;
  r.position = f.Int("position");
  auto it = d->FindMember("vms");
  if (it == d->MemberEnd() || !it->value.IsArray()) {
    return Status::InvalidArgument("a desired-state reply has no list of vms");
  }
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsObject()) return Status::InvalidArgument("a desired VM is not a JSON object");
    Fields g(v, "a desired VM");
    DesiredVm vm;
    vm.vm_id = g.Str("vm_id");
    vm.name = g.Str("name");
    vm.image = g.Str("image");
    vm.cpu_count = g.Int("cpu_count");
    vm.memory_mb = g.Int("memory_mb");
    vm.disk_gb = g.Int("disk_gb");
    vm.desired = g.Str("desired");
    vm.generation = g.Int("generation");
    vm.last_action = g.Str("last_action");
    vm.force = g.Bool("force");
    vm.position = g.Int("position");
    if (!g.status().ok()) return g.status();
    r.vms.push_back(std::move(vm));
  }
  if (!f.status().ok()) return f.status();
  return r;
}

std::string EncodeReports(const std::vector<VmReport>& reports) {
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  w.Key("reports");
  w.StartArray();
  for (const VmReport& r : reports) {
    w.StartObject();
    Str(w, "vm_id", r.vm_id);
    Str(w, "state", r.state);
    Int(w, "generation", r.generation);
    OptStr(w, "error", r.error);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Done(b);
}

Result<std::vector<VmReport>> DecodeReports(std::string_view json) {
  auto d = Parse(json, "a report");
  if (!d.ok()) return d.status();
  auto it = d->FindMember("reports");
  if (it == d->MemberEnd() || !it->value.IsArray()) {
    return Status::InvalidArgument("a report has no list of reports");
  }
  std::vector<VmReport> out;
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsObject()) return Status::InvalidArgument("a VM report is not a JSON object");
    Fields f(v, "a VM report");
    VmReport r;
    r.vm_id = f.Str("vm_id");
    r.state = f.Str("state");
    r.generation = f.Int("generation");
    r.error = f.OptStr("error");
    if (!f.status().ok()) return f.status();
    out.push_back(std::move(r));
  }
  return out;
}

std::string EncodeReportResults(const std::vector<VmReportResult>& results) {
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  w.Key("ok");
  w.Bool(true);
  w.Key("results");
  w.StartArray();
  for (const VmReportResult& r : results) {
    w.StartObject();
    Str(w, "vm_id", r.vm_id);
    w.Key("ok");
    w.Bool(r.status.ok());
    if (r.status.ok()) {
      w.Key("appended");
      w.Bool(r.appended);
      Int(w, "position", r.position);
    } else {
      Str(w, "code", CodeWireName(r.status.code()));
      Str(w, "error", r.status.message());
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Done(b);
}

Result<std::vector<VmReportResult>> DecodeReportResults(std::string_view json) {
  Status s = ReplyStatus(json);
  if (!s.ok()) return s;
  auto d = Parse(json, "a report reply");
  if (!d.ok()) return d.status();
  auto it = d->FindMember("results");
  if (it == d->MemberEnd() || !it->value.IsArray()) {
    return Status::InvalidArgument("a report reply has no list of results");
  }
  std::vector<VmReportResult> out;
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsObject()) return Status::InvalidArgument("a report result is not a JSON object");
    Fields f(v, "a report result");
    VmReportResult r;
    r.vm_id = f.Str("vm_id");
    if (f.Bool("ok")) {
      r.appended = f.Bool("appended");
      r.position = f.Int("position", false);
    } else {
      r.status = Status(CodeFromWireName(f.Str("code", false)), f.Str("error", false));
      if (r.status.ok()) r.status = Status::Internal("a report failed without a reason");
    }
    if (!f.status().ok()) return f.status();
    out.push_back(std::move(r));
  }
  return out;
}

std::string EncodeHeartbeat(const Heartbeat& h) {
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  Str(w, "sent_at", h.sent_at);
  Int(w, "interval_ms", h.interval_ms);
  Int(w, "vms", h.vms);
  Int(w, "vms_running", h.vms_running);
  Dbl(w, "load1", h.load1);
  Dbl(w, "load5", h.load5);
  Dbl(w, "load15", h.load15);
  Int(w, "memory_available_mb", h.memory_available_mb);
  Int(w, "uptime_s", h.uptime_s);
  w.EndObject();
  return Done(b);
}

Result<Heartbeat> DecodeHeartbeat(std::string_view json) {
  auto d = Parse(json, "a heartbeat");
  if (!d.ok()) return d.status();
  Fields f(*d, "a heartbeat");
  Heartbeat h;
  h.sent_at = f.Str("sent_at", false);
  h.interval_ms = f.Int("interval_ms", false);
  h.vms = f.Int("vms", false);
  h.vms_running = f.Int("vms_running", false);
  h.load1 = f.Dbl("load1");
  h.load5 = f.Dbl("load5");
  h.load15 = f.Dbl("load15");
  h.memory_available_mb = f.Int("memory_available_mb", false);
  h.uptime_s = f.Int("uptime_s", false);
  if (!f.status().ok()) return f.status();
  return h;
}

std::string EncodeErrorReply(const Status& s) {
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  w.Key("ok");
  w.Bool(false);
  Str(w, "code", CodeWireName(s.code()));
  Str(w, "error", s.message());
  w.EndObject();
  return Done(b);
}

std::string EncodeOkPosition(int64_t position) {
  rapidjson::StringBuffer b;
  Writer w(b);
  w.StartObject();
  w.Key("ok");
  w.Bool(true);
  Int(w, "position", position);
  w.EndObject();
  return Done(b);
}

Status ReplyStatus(std::string_view json) {
  auto d = Parse(json, "a reply");
  if (!d.ok()) return d.status();
  auto it = d->FindMember("ok");
  if (it == d->MemberEnd() || !it->value.IsBool()) {
    return Status::Internal("a reply has no \"ok\"");
  }
  if (it->value.GetBool()) return Status::Ok();
  Fields f(*d, "an error reply");
  Code code = CodeFromWireName(f.Str("code", false));
  std::string error = f.Str("error", false);
  if (code == Code::kOk) code = Code::kInternal;
  return Status(code, error.empty() ? "the control plane refused without a reason" : error);
}

Result<int64_t> DecodeOkPosition(std::string_view json) {
  Status s = ReplyStatus(json);
  if (!s.ok()) return s;
  auto d = Parse(json, "a reply");
  if (!d.ok()) return d.status();
  Fields f(*d, "a reply");
  int64_t p = f.Int("position", false);
  if (!f.status().ok()) return f.status();
  return p;
}

}  // namespace strato::events
