#include "http/api_events.h"

namespace strato::http {

void AddEventApiRoutes(Router& router, App& app) {
  (void)router;
  (void)app;
}

}  // namespace strato::http
