// The JSON API for organizations, members and VMs (/api/v1). Every route declares its
// permission (organization:{id}#manage, vm:{id}#stop, ...); lists contain only what the user
// may read (the engine's lookup), and a command's answer is rendered after read-your-writes.
// Commands go through the domain's command pipeline; the `Idempotency-Key` header names the
// command, so a retried request returns the first result.
//
//   GET  /api/v1/orgs                          signed in: the user's organizations
//   POST /api/v1/orgs                          signed in: create one (the creator owns it)
//   GET  /api/v1/orgs/{id}                     organization#view: with its members
//   POST /api/v1/orgs/{id}/members             organization#manage: add by username
//   DELETE /api/v1/orgs/{id}/members/{user_id} organization#manage
//   POST /api/v1/orgs/{id}/vms                 organization#create_vm
//   GET  /api/v1/vms                           signed in: VMs the user may read (?org=&state=&q=)
//   GET  /api/v1/vms/{id}                      vm#read
//   GET  /api/v1/vms/{id}/events               vm#read: its history
//   POST /api/v1/vms/{id}/{start,stop,restart,pause,resume}   vm#start / stop / restart
//   DELETE /api/v1/vms/{id}                    vm#delete
//
// Versions: GET of one VM or organization (and a command's answer) carries `ETag: "<version>"`,
// the version of the aggregate's stream the body shows. VM actions, VM delete and member
// add/remove take `If-Match: "<version>"`: another version is 409 and nothing is written; a
// malformed header is 400. Lists are paged: `limit` (1..1000, default 100) and the opaque
// `cursor` from the previous page's "next_cursor" (null on the last page).
//
// Each route's request and answers are declared in api_contracts.cpp. Reads go through
// App::queries (projections/queries/queries.h) and the VM directory, never SQL here.
#pragma once

#include "http/app/app.h"
#include "http/server/router.h"

namespace strato::http {

void AddApiRoutes(Router& router, App& app);

}  // namespace strato::http
