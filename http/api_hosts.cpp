#include "http/api_hosts.h"

namespace strato::http {

void AddHostApiRoutes(Router& router, App& app) {
  (void)router;
  (void)app;
}

}  // namespace strato::http
