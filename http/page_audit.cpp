#include "http/page_audit.h"

namespace strato::http {

void AddAuditPages(Router& router, App& app) {
  (void)router;
  (void)app;
}

}  // namespace strato::http
