#include "http/page_dashboard.h"

namespace strato::http {

void AddDashboardPages(Router& router, App& app) {
  (void)router;
  (void)app;
}

}  // namespace strato::http
