#include "http/visibility.h"

namespace strato::http {

// To be written (issue 7): the stubs refuse everything.
Result<std::vector<AuditEntry>> ReadableAuditEntries(const App&, const Principal&,
                                                     const AuditQuery&) {
  return Status::Unavailable("readable audit entries are not written yet");
}

bool MayReadStream(const App&, const Principal&, std::string_view) {
  return false;
}

}  // namespace strato::http
