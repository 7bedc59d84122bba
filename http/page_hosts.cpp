#include "http/page_hosts.h"

namespace strato::http {

void AddHostPages(Router& router, App& app) {
  (void)router;
  (void)app;
}

}  // namespace strato::http
