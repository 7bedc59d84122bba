// The OpenAPI 3.0 document of the JSON API, made from the route table itself, so a route cannot
// exist without being documented or be documented without existing: every /api/ and /auth/
// route, its path parameters, what it needs (public, a session or token, or the permission it
// checks, in `x-strato-permission`) and the error shape. Pure function of the table.
#pragma once

#include <string>

#include "http/app/app.h"
#include "http/server/router.h"

namespace strato::http {

std::string OpenApiDocument(const Router& router);

// GET /api/v1/openapi.json (public). Add it last: it describes the table as it is then.
void AddOpenApiRoute(Router& router, App& app);

}  // namespace strato::http
