// The JSON API for hosts: to be written.
#pragma once

#include "http/app.h"
#include "http/router.h"

namespace strato::http {

void AddHostApiRoutes(Router& router, App& app);

}  // namespace strato::http
