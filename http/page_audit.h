// The audit log page: to be written.
#pragma once

#include "http/app.h"
#include "http/router.h"

namespace strato::http {

void AddAuditPages(Router& router, App& app);

}  // namespace strato::http
