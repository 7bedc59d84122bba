// The hosts page, for platform operators and admins:
//
//   GET  /hosts                 signed in: the hosts the user may read (host#read lookup), each
//                               with capacity bars (allocated and free of what the scheduler may
//                               place, physical x allocation ratio, in numbers and words, a
//                               <meter> beside them, and allocated vs physical under each),
//                               hypervisor, accelerator, allocation ratios, reachability, cordon
//                               and reason, VM count;
//                               for anyone else, a sentence saying who sees hosts and how an
//                               operator is made (`strato platform grant`)
//   POST /hosts/{id}/cordon     host:{id}#manage; form field `reason` (optional, <= 500 chars)
//   POST /hosts/{id}/uncordon   host:{id}#manage
//
// The forms are plain (csrf_token field, no script); their answer is a 303 to /hosts after
// read-your-writes, or the page again with a sentence naming the host. The cordon and uncordon
// forms are shown only to users with host#manage (platform admins).
//
// The page is ui/templates/hosts.mustache (one _host per host); the rows come from
// projections/queries/host_queries.h through App::queries, the query the JSON API uses.
// CapacityView is shared with the dashboard. Handlers run on the server's threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/app/app.h"
#include "http/pages/render.h"
#include "http/server/router.h"

namespace strato::http {

void AddHostPages(Router& router, App& app);

// The view of {{> _capacity}}: one capacity bar, a label, a <meter> (allocated of total) and
// the same in words: "12 of 32 CPUs allocated (38%), 20 free". `id` names the meter (unique in
// the page); `unit` follows the numbers ("CPUs", "MiB", "GiB"). `basis`, when given, is shown
// after the words: what the total stands on ("2 physical CPUs at 4:1; 3 allocated is 150% of
// physical").
View CapacityView(std::string_view id, std::string_view label, int64_t total, int64_t allocated,
                  std::string_view unit, std::string_view basis = {});

}  // namespace strato::http
