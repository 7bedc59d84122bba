#include "events/hosts/host_protocol.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/domain/host.h"
#include "core/json_writer.h"

namespace strato::events {
namespace {

// Reads fields of one JSON object, remembering the first problem as a sentence. Strings are
// bounded in length and whole numbers in range: a field outside its bounds is a problem, not
// something to pass on.
class Fields {
 public:
  Fields(const rapidjson::Value& v, std::string what) : v_(v), what_(std::move(what)) {}
  std::string Str(const char* key, bool required = true, size_t max_bytes = 256) {
    auto it = v_.FindMember(key);
    if (it == v_.MemberEnd() || it->value.IsNull()) {
      if (required) Fail(std::string("has no \"") + key + "\"");
      return "";
    }
    if (!it->value.IsString()) {
      Fail(std::string("has a \"") + key + "\" that is not a string");
      return "";
    }
    if (it->value.GetStringLength() > max_bytes) {
      Fail(std::string("has a \"") + key + "\" longer than " + std::to_string(max_bytes) +
           " bytes");
      return "";
    }
    return std::string(it->value.GetString(), it->value.GetStringLength());
  }
  std::optional<std::string> OptStr(const char* key, size_t max_bytes = 256) {
    auto it = v_.FindMember(key);
    if (it == v_.MemberEnd() || it->value.IsNull()) return std::nullopt;
    return Str(key, true, max_bytes);
  }
  // A whole number in [min, max]; a missing optional one is 0.
  int64_t Int(const char* key, bool required = true, int64_t min = 0,
              int64_t max = std::numeric_limits<int64_t>::max()) {
    auto it = v_.FindMember(key);
    if (it == v_.MemberEnd() || it->value.IsNull()) {
      if (required) Fail(std::string("has no \"") + key + "\"");
      return 0;
    }
    if (!it->value.IsInt64()) {
      Fail(std::string("has a \"") + key + "\" that is not a whole number");
      return 0;
    }
    int64_t v = it->value.GetInt64();
    if (v < min || v > max) {
      Fail(std::string("has a \"") + key + "\" outside " + std::to_string(min) + " to " +
           std::to_string(max));
      return 0;
    }
    return v;
  }
  // A whole number clamped into [min, max]: for figures only the host itself relies on.
  int64_t Clamped(const char* key, int64_t min, int64_t max) {
    auto it = v_.FindMember(key);
    if (it == v_.MemberEnd() || it->value.IsNull()) return 0;
    if (it->value.IsInt64()) return std::clamp(it->value.GetInt64(), min, max);
    if (it->value.IsUint64()) return max;
    if (it->value.IsNumber()) return it->value.GetDouble() < 0 ? min : max;
    Fail(std::string("has a \"") + key + "\" that is not a whole number");
    return 0;
  }
  // A finite number clamped into [0, max] (anything else is 0).
  double Dbl(const char* key, double max = 1e9) {
    auto it = v_.FindMember(key);
    if (it == v_.MemberEnd() || !it->value.IsNumber()) return 0;
    double d = it->value.GetDouble();
    if (!std::isfinite(d) || d < 0) return 0;
    return std::min(d, max);
  }
  // Present and not null.
  bool Has(const char* key) const {
    auto it = v_.FindMember(key);
    return it != v_.MemberEnd() && !it->value.IsNull();
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

// The one parse of every host protocol message: shape checks first (size, depth), then
// rapidjson without recursion, with UTF-8 validated, into an object.
Result<rapidjson::Document> Parse(std::string_view json, const std::string& what,
                                  size_t max_bytes) {
  STRATO_RETURN_IF_ERROR(CheckHostJsonShape(json, max_bytes, what));
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(json.data(),
                                                                                  json.size());
  if (d.HasParseError() || !d.IsObject()) {
    return Status::InvalidArgument(what + " is not a JSON object");
  }
  return d;
}

// Sentences and names in the control plane's replies (hostd reads them).
constexpr size_t kMaxReplySentenceBytes = 64 * 1024;

// A heartbeat interval as said by a host: 0 (not said) or clamped into the accepted range.
int64_t ClampInterval(int64_t ms) {
  if (ms <= 0) return 0;
  return std::clamp(ms, kMinHeartbeatIntervalMs, kMaxHeartbeatIntervalMs);
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

Status ValidateVmIdToken(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 64;
  for (char c : id) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_');
  }
  if (ok) return Status::Ok();
  return Status::InvalidArgument("a VM id is 1 to 64 letters, digits, '-' or '_'; \"" +
                                 std::string(id.substr(0, 80)) + "\" is not");
}

std::string BoundedReportError(std::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), kMaxReportErrorBytes));
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    bool valid = n > 0 && i + n <= text.size();
    for (size_t k = 1; valid && k < n; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (valid && n > 1) {
      // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either.
      const auto c1 = static_cast<unsigned char>(text[i + 1]);
      valid = !(n == 2 && b < 0xC2) && !(n == 3 && b == 0xE0 && c1 < 0xA0) &&
              !(n == 3 && b == 0xED && c1 >= 0xA0) && !(n == 4 && b == 0xF0 && c1 < 0x90) &&
              !(n == 4 && (b > 0xF4 || (b == 0xF4 && c1 >= 0x90)));
    }
    if (!valid) n = 1;
    if (out.size() + (valid ? n : 1) > kMaxReportErrorBytes) break;
    if (valid) {
      out.append(text.substr(i, n));
    } else {
      out.push_back('?');
    }
    i += n;
  }
  return out;
}

size_t HostMessageByteLimit(std::string_view verb) {
  if (verb == "register") return kMaxRegistrationBytes;
  if (verb == "desired") return kMaxDesiredRequestBytes;
  if (verb == "report") return kMaxReportBytes;
  if (verb == "heartbeat") return kMaxHeartbeatBytes;
  return 0;
}

Status CheckHostJsonShape(std::string_view json, size_t max_bytes, std::string_view what) {
  if (json.size() > max_bytes) {
    return Status::InvalidArgument(std::string(what) + " is " + std::to_string(json.size()) +
                                   " bytes long; at most " + std::to_string(max_bytes) +
                                   " are accepted");
  }
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : json) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxHostJsonDepth) {
        return Status::InvalidArgument(std::string(what) + " nests more than " +
                                       std::to_string(kMaxHostJsonDepth) +
                                       " levels of lists and objects");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return Status::Ok();
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
  JsonWriter w;
  w.BeginObject()
      .Str("name", r.name)
      .Str("address", r.address)
      .Int("cpu_count", r.cpu_count)
      .Int("memory_mb", r.memory_mb)
      .Int("disk_gb", r.disk_gb)
      .Str("hypervisor_kind", r.hypervisor_kind)
      .Str("hypervisor_version", r.hypervisor_version)
      .Int("heartbeat_interval_ms", r.heartbeat_interval_ms)
      .Str("accelerator", r.accelerator)
      .Int("cpu_allocation_ratio", r.cpu_allocation_ratio)
      .Int("memory_allocation_ratio", r.memory_allocation_ratio)
      .EndObject();
  return w.Text();
}

Result<HostRegistration> DecodeRegistration(std::string_view json) {
  auto d = Parse(json, "a registration", kMaxRegistrationBytes);
  if (!d.ok()) return d.status();
  Fields f(*d, "a registration");
  HostRegistration r;
  // The domain checks names and capacity in detail; here only bounds.
  r.name = f.Str("name", true, 253);
  r.address = f.Str("address", true, 255);
  constexpr int64_t kHuge = int64_t{1} << 40;
  r.cpu_count = f.Int("cpu_count", true, 0, kHuge);
  r.memory_mb = f.Int("memory_mb", true, 0, kHuge);
  r.disk_gb = f.Int("disk_gb", true, 0, kHuge);
  r.hypervisor_kind = f.Str("hypervisor_kind", true, 64);
  r.hypervisor_version = f.Str("hypervisor_version", true, 64);
  r.heartbeat_interval_ms =
      ClampInterval(f.Clamped("heartbeat_interval_ms", 0, kMaxHeartbeatIntervalMs));
  // Optional (an older hostd sends none): no accelerator said, 1:1.
  r.accelerator = f.Str("accelerator", false, 64);
  if (f.Has("cpu_allocation_ratio")) {
    r.cpu_allocation_ratio = f.Int("cpu_allocation_ratio", true, 1, domain::kMaxCpuAllocationRatio);
  }
  if (f.Has("memory_allocation_ratio")) {
    r.memory_allocation_ratio =
        f.Int("memory_allocation_ratio", true, 1, domain::kMaxMemoryAllocationRatio);
  }
  if (!f.status().ok()) return f.status();
  return r;
}

std::string EncodeDesiredRequest(const DesiredRequest& r) {
  JsonWriter w;
  w.BeginObject();
  if (!r.vm_ids.empty()) {
    w.Key("vm_ids").BeginArray();
    for (const auto& id : r.vm_ids) w.String(id);
    w.EndArray();
  }
  w.Int("min_position", r.min_position).EndObject();
  return w.Text();
}

Result<DesiredRequest> DecodeDesiredRequest(std::string_view json) {
  DesiredRequest r;
  if (json.empty()) return r;
  auto d = Parse(json, "a desired-state request", kMaxDesiredRequestBytes);
  if (!d.ok()) return d.status();
  Fields f(*d, "a desired-state request");
  r.min_position = f.Int("min_position", false);
  auto it = d->FindMember("vm_ids");
  if (it != d->MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsArray()) {
      return Status::InvalidArgument("a desired-state request's vm_ids must be a list of strings");
    }
    if (it->value.Size() > kMaxDesiredVmIds) {
      return Status::InvalidArgument("a desired-state request names " +
                                     std::to_string(it->value.Size()) + " VMs; at most " +
                                     std::to_string(kMaxDesiredVmIds) + " are accepted");
    }
    for (const auto& v : it->value.GetArray()) {
      if (!v.IsString()) {
        return Status::InvalidArgument(
            "a desired-state request's vm_ids must be a list of strings");
      }
      std::string_view id(v.GetString(), v.GetStringLength());
      Status valid = ValidateVmIdToken(id);
      if (!valid.ok()) return valid.WithContext("a desired-state request");
      r.vm_ids.emplace_back(id);
    }
  }
  if (!f.status().ok()) return f.status();
  return r;
}

std::string EncodeDesiredReply(const DesiredReply& r) {
  JsonWriter w;
  w.BeginObject().Bool("ok", true).Int("position", r.position).Key("vms").BeginArray();
  for (const DesiredVm& v : r.vms) {
    w.BeginObject()
        .Str("vm_id", v.vm_id)
        .Str("name", v.name)
        .Str("image", v.image)
        .Int("cpu_count", v.cpu_count)
        .Int("memory_mb", v.memory_mb)
        .Int("disk_gb", v.disk_gb)
        .Str("desired", v.desired)
        .Int("generation", v.generation)
        .Str("last_action", v.last_action)
        .Bool("force", v.force)
        .Int("position", v.position)
        .EndObject();
  }
  w.EndArray().EndObject();
  return w.Text();
}

Result<DesiredReply> DecodeDesiredReply(std::string_view json) {
  Status s = ReplyStatus(json);
  if (!s.ok()) return s;
  auto d = Parse(json, "a desired-state reply", kMaxHostReplyBytes);
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
    vm.vm_id = g.Str("vm_id", true, kMaxReplySentenceBytes);
    vm.name = g.Str("name", true, kMaxReplySentenceBytes);
    vm.image = g.Str("image", true, kMaxReplySentenceBytes);
    vm.cpu_count = g.Int("cpu_count");
    vm.memory_mb = g.Int("memory_mb");
    vm.disk_gb = g.Int("disk_gb");
    vm.desired = g.Str("desired", true, kMaxReplySentenceBytes);
    vm.generation = g.Int("generation");
    vm.last_action = g.Str("last_action", true, kMaxReplySentenceBytes);
    vm.force = g.Bool("force");
    vm.position = g.Int("position");
    if (!g.status().ok()) return g.status();
    r.vms.push_back(std::move(vm));
  }
  if (!f.status().ok()) return f.status();
  return r;
}

std::string EncodeReports(const std::vector<VmReport>& reports) {
  JsonWriter w;
  w.BeginObject().Key("reports").BeginArray();
  for (const VmReport& r : reports) {
    w.BeginObject()
        .Str("vm_id", r.vm_id)
        .Str("state", r.state)
        .Int("generation", r.generation)
        .OptStr("error", r.error)
        .EndObject();
  }
  w.EndArray().EndObject();
  return w.Text();
}

Result<std::vector<VmReport>> DecodeReports(std::string_view json) {
  auto d = Parse(json, "a report", kMaxReportBytes);
  if (!d.ok()) return d.status();
  auto it = d->FindMember("reports");
  if (it == d->MemberEnd() || !it->value.IsArray()) {
    return Status::InvalidArgument("a report has no list of reports");
  }
  if (it->value.Size() > kMaxReportsPerMessage) {
    return Status::InvalidArgument("a report carries " + std::to_string(it->value.Size()) +
                                   " VM reports; at most " + std::to_string(kMaxReportsPerMessage) +
                                   " are accepted");
  }
  std::vector<VmReport> out;
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsObject()) return Status::InvalidArgument("a VM report is not a JSON object");
    Fields f(v, "a VM report");
    VmReport r;
    r.vm_id = f.Str("vm_id", true, 64);
    r.state = f.Str("state", true, 32);
    r.generation = f.Int("generation", true, 0, int64_t{1} << 53);
    r.error = f.OptStr("error", kMaxReportErrorBytes);
    if (!f.status().ok()) return f.status();
    out.push_back(std::move(r));
  }
  return out;
}

std::string EncodeReportResults(const std::vector<VmReportResult>& results) {
  JsonWriter w;
  w.BeginObject().Bool("ok", true).Key("results").BeginArray();
  for (const VmReportResult& r : results) {
    w.BeginObject().Str("vm_id", r.vm_id).Bool("ok", r.status.ok());
    if (r.status.ok()) {
      w.Bool("appended", r.appended).Int("position", r.position);
    } else {
      w.Str("code", CodeWireName(r.status.code())).Str("error", r.status.message());
    }
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Text();
}

Result<std::vector<VmReportResult>> DecodeReportResults(std::string_view json) {
  Status s = ReplyStatus(json);
  if (!s.ok()) return s;
  auto d = Parse(json, "a report reply", kMaxHostReplyBytes);
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
      r.status = Status(CodeFromWireName(f.Str("code", false)),
                        f.Str("error", false, kMaxReplySentenceBytes));
      if (r.status.ok()) r.status = Status::Internal("a report failed without a reason");
    }
    if (!f.status().ok()) return f.status();
    out.push_back(std::move(r));
  }
  return out;
}

std::string EncodeHeartbeat(const Heartbeat& h) {
  JsonWriter w;
  w.BeginObject()
      .Str("sent_at", h.sent_at)
      .Int("interval_ms", h.interval_ms)
      .Int("vms", h.vms)
      .Int("vms_running", h.vms_running)
      .Double("load1", h.load1)
      .Double("load5", h.load5)
      .Double("load15", h.load15)
      .Int("memory_available_mb", h.memory_available_mb)
      .Int("uptime_s", h.uptime_s)
      .EndObject();
  return w.Text();
}

Result<Heartbeat> DecodeHeartbeat(std::string_view json) {
  auto d = Parse(json, "a heartbeat", kMaxHeartbeatBytes);
  if (!d.ok()) return d.status();
  Fields f(*d, "a heartbeat");
  Heartbeat h;
  // Figures only describe the host: clamped, never refused.
  constexpr int64_t kBig = int64_t{1} << 40;
  h.sent_at = f.Str("sent_at", false, 64);
  h.interval_ms = ClampInterval(f.Clamped("interval_ms", 0, kMaxHeartbeatIntervalMs));
  h.vms = f.Clamped("vms", 0, kBig);
  h.vms_running = f.Clamped("vms_running", 0, kBig);
  h.load1 = f.Dbl("load1", 1e6);
  h.load5 = f.Dbl("load5", 1e6);
  h.load15 = f.Dbl("load15", 1e6);
  h.memory_available_mb = f.Clamped("memory_available_mb", 0, kBig);
  h.uptime_s = f.Clamped("uptime_s", 0, kBig);
  if (!f.status().ok()) return f.status();
  return h;
}

std::string EncodeErrorReply(const Status& s) {
  JsonWriter w;
  w.BeginObject()
      .Bool("ok", false)
      .Str("code", CodeWireName(s.code()))
      .Str("error", s.message())
      .EndObject();
  return w.Text();
}

std::string EncodeOkPosition(int64_t position) {
  JsonWriter w;
  w.BeginObject().Bool("ok", true).Int("position", position).EndObject();
  return w.Text();
}

Status ReplyStatus(std::string_view json) {
  auto d = Parse(json, "a reply", kMaxHostReplyBytes);
  if (!d.ok()) return d.status();
  auto it = d->FindMember("ok");
  if (it == d->MemberEnd() || !it->value.IsBool()) {
    return Status::Internal("a reply has no \"ok\"");
  }
  if (it->value.GetBool()) return Status::Ok();
  Fields f(*d, "an error reply");
  Code code = CodeFromWireName(f.Str("code", false));
  std::string error = f.Str("error", false, kMaxReplySentenceBytes);
  if (code == Code::kOk) code = Code::kInternal;
  return Status(code, error.empty() ? "the control plane refused without a reason" : error);
}

Result<int64_t> DecodeOkPosition(std::string_view json) {
  Status s = ReplyStatus(json);
  if (!s.ok()) return s;
  auto d = Parse(json, "a reply", kMaxHostReplyBytes);
  if (!d.ok()) return d.status();
  Fields f(*d, "a reply");
  int64_t p = f.Int("position", false);
  if (!f.status().ok()) return f.status();
  return p;
}

}  // namespace strato::events
