// The dashboard page (GET /): to be written.
#pragma once

#include "http/app.h"
#include "http/router.h"

namespace strato::http {

void AddDashboardPages(Router& router, App& app);

}  // namespace strato::http
