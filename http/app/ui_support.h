// What the dashboard pages (page_orgs.cpp, page_vms.cpp) share besides the layout: an error
// page for a failure a handler met, the authorization engine's answers for the signed-in user
// (may they do P on E; which entities may they see), and the words for a VM's state.
//
// Pure functions or read-only use of the App: call them from any thread.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/app/app.h"
#include "http/app/permissions.h"
#include "http/server/request.h"

namespace strato::http {

// A page saying what went wrong (the sentence in role="alert"), with the status for its code.
Response UiErrorPage(const Request& req, const Status& s, std::string_view title = "");

// The observed state in words, honest about what is not known: "pending — not placed on a host
// yet", "unknown — host unreachable", "starting". `placement_failure` is shown for pending VMs.
std::string ObservedStateWords(std::string_view observed, std::string_view placement_failure);

// "VM web-1" with the name escaped, for sentences in HTML.
std::string VmNameHtml(std::string_view name);

// A <select> option: value, label, selected.
std::string OptionHtml(std::string_view value, std::string_view label, bool selected);

// A form field's message beside it: <p class="field-error" id="..."> with "Error:" in words.
std::string FieldErrorHtml(std::string_view id, std::string_view sentence);

// The hx-trigger value of an element that refreshes itself on live updates: the events
// ui/static/live.js dispatches on <body> for each named stream kind or stream ("vm", "org",
// "vm-<id>"), and after a reconnect that missed events ("live-reset").
std::string LiveTrigger(std::initializer_list<std::string> streams);

// A region of a page that refreshes itself on those live updates: a wrapper <div id="<id>">
// that stays in the page (so a trigger arriving while a refresh is under way is not lost) and
// re-fetches `url`, swapping in the answer's <div id="<id>-body">. `extra_attributes` (e.g.
// hx-select-oob) are added to the wrapper. Close with LiveRegionEnd().
std::string LiveRegionStart(std::string_view id, std::string_view url,
                            std::initializer_list<std::string> streams,
                            std::string_view extra_attributes = "");
std::string LiveRegionEnd();

}  // namespace strato::http
