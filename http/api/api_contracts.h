// The contract of every JSON route (/api/ and /auth/), declared once as data: the request body
// it reads, each successful answer's status and shape (http/api/api_shapes.h), and what the
// OpenAPI document says beyond the route table (ETag, If-Match, paging, a server-sent event
// stream). Every error answer of every route has one shape, ErrorShape(): JsonError's
// {"error":{"code","message","details"}}.
//
// Three things read this table: the OpenAPI document (openapi.cpp) is generated from it;
// CheckRouteContracts refuses a route table in which a documented route has no contract (or a
// contract no route), which the HTTP tests' fixture checks; and CheckAnswer checks a real answer
// against the contract of its route, which the fixture does for every answer the HTTP tests
// receive from a documented route.
//
// The table is built once (first use) and read-only afterwards: safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/api/api_shapes.h"
#include "http/server/router.h"

namespace strato::http {

struct ApiAnswer {
  int status = 200;
  std::optional<Shape> body;  // none: no body (204, or a stream)
  std::string description;
};

// A query parameter a route reads (besides the paging ones, which `paged` declares).
struct QueryParameter {
  std::string name;
  Shape shape;  // a string, an integer or words
  std::string description;
};

struct RouteContract {
  std::string method, pattern;
  std::vector<QueryParameter> query;
  std::optional<Shape> request;    // the JSON body it reads; none: it reads no body
  bool request_optional = false;   // an empty body is accepted as {}
  std::vector<ApiAnswer> answers;  // the successful ones
  bool etag = false;               // the answer carries ETag: "<version>"
  bool if_match = false;           // takes If-Match: "<version>" (409 when stale)
  bool paged = false;              // takes limit and cursor; answers next_cursor
  bool event_stream = false;       // answers text/event-stream
};

// Whether the OpenAPI document lists the route (and so needs a contract): /api/ and /auth/.
bool Documented(const Route& route);

// Every contract, in the order of the route modules.
const std::vector<RouteContract>& RouteContracts();
// The contract of a route; null when there is none.
const RouteContract* FindContract(std::string_view method, std::string_view pattern);
// The shape of every error answer.
const Shape& ErrorShape();

// Ok when every documented route of `router` has a contract and every contract a route; else
// kFailedPrecondition naming each one that does not.
Status CheckRouteContracts(const Router& router);

// Ok when an answer of route (method, pattern) agrees with its contract: a successful status
// the contract declares, with its shape (a JSON answer) or no body; an error status (4xx, 5xx)
// with the error shape. kInvalidArgument saying how it differs otherwise. Answers that are not
// JSON (a redirect, a page for a browser) are not checked.
Status CheckAnswer(std::string_view method, std::string_view pattern, int status,
                   std::string_view content_type, std::string_view body);

}  // namespace strato::http
