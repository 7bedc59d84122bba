// The VM pages (server-rendered, forms that work without JavaScript):
//
//   GET  /vms                   signed in: VMs the user may read (?q= name, ?state=, ?org=,
//                               ?sort=name|created), desired and observed state in words
//   GET  /vms/new               signed in: the create form (organizations where the user may
//                               create_vm)
//   POST /vms                   signed in: create (form); organization#create_vm of the chosen
//                               organization is checked here, since it comes from the form
//   GET  /vms/{id}              vm#read: spec, desired vs observed, host, error, history, actions
//   POST /vms/{id}/start        vm#start      POST /vms/{id}/stop     vm#stop (force=1: power off)
//   POST /vms/{id}/restart      vm#restart    POST /vms/{id}/pause    vm#stop
//   POST /vms/{id}/resume       vm#start      POST /vms/{id}/delete   vm#delete (confirm_name must
//                                                                     be the VM's name)
//
// Commands are the JSON API's (api_routes.h); a form's answer is a 303 redirect after
// read-your-writes, or the page again with a sentence naming the VM.
#pragma once

#include "http/app/app.h"
#include "http/server/router.h"

namespace strato::http {

void AddVmPages(Router& router, App& app);

}  // namespace strato::http
