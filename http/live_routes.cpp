#include "http/live_routes.h"

namespace strato::http {

void AddLiveRoutes(Router& router, App& app) {
  (void)router;
  (void)app;
}

}  // namespace strato::http
