// The JSON API for the event log: to be written.
#pragma once

#include "http/app.h"
#include "http/router.h"

namespace strato::http {

void AddEventApiRoutes(Router& router, App& app);

}  // namespace strato::http
