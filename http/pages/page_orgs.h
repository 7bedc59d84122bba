// The organization pages (server-rendered, forms that work without JavaScript):
//
//   GET  /orgs                                  signed in: the user's organizations, a create form
//   POST /orgs                                  signed in: create one (form; the creator owns it)
//   GET  /orgs/{id}                             organization#view: members with their roles
//   POST /orgs/{id}/members                     organization#manage: add by username (form)
//   POST /orgs/{id}/members/{user_id}/remove    organization#manage: remove (form)
//
// Commands go through the same domain commands as the JSON API (api_routes.h); a form's answer
// is a 303 redirect after read-your-writes, or the page again with the sentence beside the field.
#pragma once

#include "http/app/app.h"
#include "http/server/router.h"

namespace strato::http {

void AddOrgPages(Router& router, App& app);

}  // namespace strato::http
