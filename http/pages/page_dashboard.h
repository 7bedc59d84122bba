// The dashboard, GET / (signed in; anonymous visitors are sent to /signin by the pipeline).
// It greets the user by display name and shows, each number linking to the list it counts:
//
//   #vm-counts        the user's VMs (vm#read lookup, not deleted) by observed state
//                     (/vms?state=<state>) and by desired state (/vms?desired=<state>)
//   #org-count        the organizations the user may view (/orgs)
//   #host-capacity    only for users who may read hosts: allocated of total CPUs, memory and
//                     disk over those hosts (/hosts)
//   #recent-activity  the 10 newest audit entries the user may read (ReadableAuditEntries); when
//                     they cannot be read, a sentence saying why, and the page still answers 200
//
// The section ids are stable: live updates refresh the sections by id. Handlers run on the
// server's threads; the App is borrowed.
#pragma once

#include "http/app/app.h"
#include "http/server/router.h"

namespace strato::http {

void AddDashboardPages(Router& router, App& app);

}  // namespace strato::http
