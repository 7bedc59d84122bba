// The hosts pages: to be written.
#pragma once

#include "http/app.h"
#include "http/router.h"

namespace strato::http {

void AddHostPages(Router& router, App& app);

}  // namespace strato::http
