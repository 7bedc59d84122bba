// The live-update stream (SSE): to be written.
#pragma once

#include "http/app.h"
#include "http/router.h"

namespace strato::http {

void AddLiveRoutes(Router& router, App& app);

}  // namespace strato::http
