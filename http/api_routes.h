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
#pragma once

#include "http/app.h"
#include "http/router.h"

namespace strato::http {

void AddApiRoutes(Router& router, App& app);

}  // namespace strato::http
