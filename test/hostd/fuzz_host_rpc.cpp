// libFuzzer target for the host RPC: random messages from a host into the host protocol's
// decoders and into the control plane's handlers (events/hosts/host_rpc.h's HostControl over the
// in-memory event store, with a fake desired reader: no PostgreSQL, no NATS). The first byte
// of an input picks the message kind and the host, the rest is the payload. It checks that
// nothing crashes, that every request gets a reply object, and that what decodes re-encodes to
// something that decodes again. Built with clang++ -fsanitize=fuzzer,address by
// hostd/hostd.cmake and run for 20 s by ctest ("hostd: fuzz host rpc (short run)").
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "core/log.h"
#include "events/hosts/host_protocol.h"
#include "events/hosts/host_rpc.h"
#include "events/log/memory_event_store.h"

using namespace strato;

namespace {

// A fresh store every few thousand inputs keeps memory and per-input time flat.
struct World {
  events::MemoryEventStore store;
  events::HostControl control{store, Options()};
  int inputs = 0;

  static events::HostControlOptions Options() {
    events::HostControlOptions o;
    o.desired_wait = std::chrono::milliseconds(0);
    o.desired_reader = [](const std::string& host,
                          const events::DesiredRequest& r) -> Result<events::DesiredReply> {
      events::DesiredReply reply;
      for (const std::string& id : r.vm_ids) {
        reply.vms.push_back({id, "vm", "debian-12", 1, 512, 1, "running", 1, "create", false, 1});
      }
      return reply;
    };
    return o;
  }
};

[[noreturn]] void Fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "%s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// Every request is answered with a JSON object carrying "ok".
void CheckReply(const std::string& reply) {
  Status s = events::ReplyStatus(reply);
  if (!s.ok() && s.message() == "a reply has no \"ok\"") Fail("a reply without ok", reply);
  if (!s.ok() && s.message() == "a reply is not a JSON object") {
    Fail("a reply that is not JSON", reply);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  log::SetMinLevel(log::Level::kError);  // refusals are logged as warnings: keep the run quiet
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static std::unique_ptr<World> world;
  if (!world || ++world->inputs > 5000) world = std::make_unique<World>();
  const uint8_t pick = data[0];
  static const char* const kHosts[] = {"host-a", "host-b", "h.bad", ""};
  const std::string host = kHosts[(pick >> 4) & 3];
  const std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  events::HostControl& control = world->control;

  switch (pick % 8) {
    case 0:
      CheckReply(control.HandleRegister(host, payload));
      break;
    case 1:
      CheckReply(control.HandleDesired(host, payload));
      break;
    case 2:
      CheckReply(control.HandleReport(host, payload));
      break;
    case 3:
      control.HandleHeartbeat(host, payload);
      break;
    case 4: {
      auto reports = events::DecodeReports(payload);
      if (reports.ok()) {
        auto again = events::DecodeReports(events::EncodeReports(*reports));
        if (!again.ok() || again->size() != reports->size()) Fail("reports round trip", payload);
      }
      auto desired = events::DecodeDesiredRequest(payload);
      if (desired.ok() &&
          !events::DecodeDesiredRequest(events::EncodeDesiredRequest(*desired)).ok()) {
        Fail("desired request round trip", payload);
      }
      auto reg = events::DecodeRegistration(payload);
      if (reg.ok() && !events::DecodeRegistration(events::EncodeRegistration(*reg)).ok()) {
        Fail("registration round trip", payload);
      }
      auto hb = events::DecodeHeartbeat(payload);
      if (hb.ok() && !events::DecodeHeartbeat(events::EncodeHeartbeat(*hb)).ok()) {
        Fail("heartbeat round trip", payload);
      }
      break;
    }
    case 5: {
      // What hostd reads from the control plane goes through the same parse.
      (void)events::DecodeDesiredReply(payload);
      (void)events::DecodeReportResults(payload);
      (void)events::DecodeOkPosition(payload);
      break;
    }
    case 6: {
      std::string bounded = events::BoundedReportError(payload);
      if (bounded.size() > events::kMaxReportErrorBytes) Fail("an unbounded error", bounded);
      std::string encoded = events::EncodeReports({{"vm-1", "failed", 1, bounded}});
      if (!events::DecodeReports(encoded).ok()) Fail("a bounded error refused", bounded);
      break;
    }
    default:
      (void)events::CheckHostJsonShape(payload, events::kMaxReportBytes, "a message");
      (void)events::ValidateVmIdToken(payload);
      (void)events::ValidateHostId(payload);
      break;
  }
  return 0;
}
