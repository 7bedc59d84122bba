#include "http/pages/page_orgs.h"

#include <string>
#include <vector>

#include "core/domain/organization.h"
#include "core/ids.h"
#include "core/log.h"
#include "http/app/ui_support.h"
#include "http/pages/ui_html.h"
#include "projections/queries/org_queries.h"

namespace strato::http {

namespace {

Result<std::vector<projections::OrgListItem>> ReadOrgs(App& app, const Principal& me) {
  auto ids = UserEntities(app, me, "organization", "view");
  if (!ids.ok()) return ids.status();
  auto db = app.db.Acquire();
  if (!db.ok()) return db.status();
  return projections::ReadOrganizations(**db, {**ids, me.user_id, std::nullopt, 0});
}

// --- GET /orgs, POST /orgs

Response OrgsPage(App& app, Request& req, int status, const std::string& name_value,
                  const std::string& name_error) {
  const Principal& me = *req.principal;
  auto orgs = ReadOrgs(app, me);
  if (!orgs.ok()) return UiErrorPage(req, orgs.status());
  Page page;
  page.title = "Organizations";
  page.principal = &me;
  page.current = "orgs";
  std::string h = "<h1>Organizations</h1>\n";
  if (req.Query("notice") == "left") {
    h += NoticeHtml(NoticeKind::kDone, "You are no longer a member of that organization.");
  }
  h += LiveRegionStart("org-list", "/orgs", {"org"});
  if (orgs->empty()) {
    h += "<p id=\"no-orgs\">You do not belong to any organization yet. Create one below; VMs "
         "belong to organizations.</p>\n";
  } else {
    h += "<table class=\"list\" id=\"orgs\">\n<thead><tr><th scope=\"col\">Name</th><th "
         "scope=\"col\">Your role</th><th scope=\"col\">VMs</th></tr></thead>\n<tbody>\n";
    for (const projections::OrgListItem& o : *orgs) {
      std::string href = "/orgs/" + UrlEncode(o.id);
      h += "<tr data-org-id=\"" + HtmlEscape(o.id) + "\"><th scope=\"row\"><a href=\"" +
           HtmlEscape(href) + "\">" + HtmlEscape(o.name) + "</a></th><td>" +
           HtmlEscape(o.role.empty() ? "viewer" : o.role) + "</td><td><a href=\"" +
           HtmlEscape("/vms?org=" + UrlEncode(o.id)) + "\">VMs of " + HtmlEscape(o.name) +
           "</a></td></tr>\n";
    }
    h += "</tbody>\n</table>\n";
  }
  h += LiveRegionEnd();
  h += "<section aria-labelledby=\"create-org-heading\">\n<h2 id=\"create-org-heading\">Create "
       "an organization</h2>\n<form method=\"post\" action=\"/orgs\" class=\"card\" "
       "novalidate>" +
       CsrfFieldHtml(me) +
       "<label for=\"org-name\">Name</label>\n<input id=\"org-name\" name=\"name\" required "
       "maxlength=\"100\" value=\"" +
       HtmlEscape(name_value) + "\"" +
       (name_error.empty() ? "" : " aria-invalid=\"true\" aria-describedby=\"org-name-error\"") +
       ">\n" + FieldErrorHtml("org-name-error", name_error) +
       "<p class=\"hint\">You become its owner; add members on its page.</p>\n<button "
       "type=\"submit\">Create organization</button>\n</form>\n</section>";
  page.main_html = std::move(h);
  return PageResponse(status, page);
}

Response Orgs(App& app, Request& req) {
  return OrgsPage(app, req, 200, "", "");
}

Response CreateOrgForm(App& app, Request& req) {
  std::string name = req.FormField("name");
  if (name.empty()) {
    return OrgsPage(app, req, 400, name, "Give the organization a name (1 to 100 characters).");
  }
  std::string id = Uuid::NewV4().ToString();
  auto outcome =
      app.commands.Organization(ContextFor(req), id, domain::CreateOrganization{id, name});
  if (!outcome.ok()) {
    std::string why = outcome.status().message();
    if (outcome.status().code() == Code::kInvalidArgument) {
      return OrgsPage(app, req, 400, name, "The organization could not be created: " + why + ".");
    }
    return UiErrorPage(req,
                       Status(outcome.status().code(),
                              "The organization " + name + " could not be created: " + why + "."));
  }
  Status seen = app.WaitForReadModels(outcome->position);
  if (!seen.ok()) log::Warn("read models lag behind an organization", {{"error", seen.message()}});
  return Response::Redirect("/orgs/" + UrlEncode(id) + "?notice=created");
}

// --- GET /orgs/{id}, member forms

Response OrgPage(App& app, Request& req, int status, const std::string& error,
                 const std::string& username_value, const std::string& role_value) {
  const Principal& me = *req.principal;
  const std::string org_id = req.Param("id");
  projections::OrgDetail org;
  {
    auto db = app.db.Acquire();
    if (!db.ok()) return UiErrorPage(req, db.status());
    auto read = projections::ReadOrganization(**db, org_id);
    if (!read.ok()) return UiErrorPage(req, read.status());
    if (!*read) {
      return UiErrorPage(req, Status::NotFound("There is no organization " + org_id + "."));
    }
    org = std::move(**read);
  }
  const std::string& org_name = org.name;
  const std::vector<projections::OrgMember>& members = org.members;
  const int64_t vm_count = org.vm_count;
  const bool manage = UserMay(app, me, "organization", org_id, "manage");
  const std::string base = "/orgs/" + UrlEncode(org_id);

  Page page;
  page.title = org_name;
  page.principal = &me;
  page.current = "orgs";
  std::string h = "<p class=\"crumbs\"><a href=\"/orgs\">Organizations</a></p>\n<h1>" +
                  HtmlEscape(org_name) + "</h1>\n";
  if (!error.empty()) {
    h += NoticeHtml(NoticeKind::kError, error);
  } else {
    std::string notice = req.Query("notice");
    if (notice == "created") h += NoticeHtml(NoticeKind::kDone, "The organization was created.");
    if (notice == "added") h += NoticeHtml(NoticeKind::kDone, "The member was added.");
    if (notice == "removed") h += NoticeHtml(NoticeKind::kDone, "The member was removed.");
  }
  // The VM count and the members refresh themselves when a VM or the organization changes; the
  // add-member form stays outside, so what is typed in it is never swapped away.
  h += LiveRegionStart("org-vms", base, {"vm"});
  h += "<p>" + std::to_string(vm_count) + (vm_count == 1 ? " VM" : " VMs") + ": <a href=\"" +
       HtmlEscape("/vms?org=" + UrlEncode(org_id)) + "\">see the VMs of " + HtmlEscape(org_name) +
       "</a>.</p>\n" + LiveRegionEnd();
  h += "<section aria-labelledby=\"members-heading\">\n<h2 id=\"members-heading\">Members</h2>\n" +
       LiveRegionStart("org-members", base, {"org-" + org_id}) +
       "<table class=\"list\" id=\"members\">\n<thead><tr><th scope=\"col\">User</th><th "
       "scope=\"col\">Role</th>";
  if (manage) h += "<th scope=\"col\"><span class=\"sr-only\">Actions</span></th>";
  h += "</tr></thead>\n<tbody>\n";
  for (const projections::OrgMember& m : members) {
    std::string who = m.username.empty() ? m.user_id : m.username;
    h += "<tr data-user-id=\"" + HtmlEscape(m.user_id) + "\"><th scope=\"row\">" + HtmlEscape(who);
    if (!m.display_name.empty() && m.display_name != m.username) {
      h += " <span class=\"hint\">(" + HtmlEscape(m.display_name) + ")</span>";
    }
    if (m.user_id == me.user_id) h += " <span class=\"hint\">(you)</span>";
    h += "</th><td>" + HtmlEscape(m.role) + "</td>";
    if (manage) {
      h += "<td><form method=\"post\" action=\"" +
           HtmlEscape(base + "/members/" + UrlEncode(m.user_id) + "/remove") +
           "\" class=\"inline\">" + CsrfFieldHtml(me) +
           "<button type=\"submit\" class=\"danger\" aria-label=\"Remove " + HtmlEscape(who) +
           " from " + HtmlEscape(org_name) + "\">Remove</button></form></td>";
    }
    h += "</tr>\n";
  }
  h += "</tbody>\n</table>\n";
  h += LiveRegionEnd();
  if (manage) {
    h += "<h3>Add a member</h3>\n<form method=\"post\" action=\"" + HtmlEscape(base + "/members") +
         "\" class=\"card\" id=\"add-member\">" + CsrfFieldHtml(me) +
         "<label for=\"member-username\">Username</label>\n<input id=\"member-username\" "
         "name=\"username\" required maxlength=\"32\" autocapitalize=\"none\" "
         "spellcheck=\"false\" value=\"" +
         HtmlEscape(username_value) +
         "\">\n<p class=\"hint\">They must have registered already.</p>\n<label "
         "for=\"member-role\">Role</label>\n<select id=\"member-role\" name=\"role\">" +
         OptionHtml("member", "member: sees and operates the organization's VMs",
                    role_value != "owner") +
         OptionHtml("owner", "owner: also manages members and deletes any VM",
                    role_value == "owner") +
         "</select>\n<button type=\"submit\">Add member</button>\n</form>\n";
  } else {
    h += "<p class=\"hint\">Only owners of " + HtmlEscape(org_name) +
         " can add or remove members.</p>\n";
  }
  h += "</section>";
  page.main_html = std::move(h);
  return PageResponse(status, page);
}

Response Org(App& app, Request& req) {
  return OrgPage(app, req, 200, "", "", "");
}

Response AddMemberForm(App& app, Request& req) {
  const std::string org_id = req.Param("id");
  std::string username = req.FormField("username");
  std::string role_text = req.FormField("role");
  if (role_text.empty()) role_text = "member";
  if (username.empty()) {
    return OrgPage(app, req, 400, "Type the username of the person to add.", username, role_text);
  }
  auto role = domain::ParseOrgRole(role_text);
  if (!role.ok()) {
    return OrgPage(app, req, 400, "The role must be member or owner.", username, role_text);
  }
  std::string user_id;
  {
    auto db = app.db.Acquire();
    if (!db.ok()) return UiErrorPage(req, db.status());
    auto found = projections::FindUserIdByUsername(**db, username);
    if (!found.ok()) return UiErrorPage(req, found.status());
    if (!*found) {
      return OrgPage(
          app, req, 404,
          "There is no user named " + username + "; they must register before they can be added.",
          username, role_text);
    }
    user_id = **found;
  }
  auto outcome =
      app.commands.Organization(ContextFor(req), org_id, domain::AddMember{user_id, *role});
  if (!outcome.ok()) {
    return OrgPage(app, req, HttpStatusFor(outcome.status().code()),
                   username + " could not be added: " + outcome.status().message() + ".", username,
                   role_text);
  }
  Status seen = app.WaitForReadModels(outcome->position);
  if (!seen.ok()) log::Warn("read models lag behind a new member", {{"error", seen.message()}});
  return Response::Redirect("/orgs/" + UrlEncode(org_id) + "?notice=added");
}

Response RemoveMemberForm(App& app, Request& req) {
  const std::string org_id = req.Param("id");
  auto outcome = app.commands.Organization(ContextFor(req), org_id,
                                           domain::RemoveMember{req.Param("user_id")});
  if (!outcome.ok()) {
    return OrgPage(app, req, HttpStatusFor(outcome.status().code()),
                   "The member could not be removed: " + outcome.status().message() + ".", "", "");
  }
  Status seen = app.WaitForReadModels(outcome->position);
  if (!seen.ok()) log::Warn("read models lag behind a removal", {{"error", seen.message()}});
  // Someone who removed themself may no longer see the organization.
  if (req.Param("user_id") == req.principal->user_id &&
      !UserMay(app, *req.principal, "organization", org_id, "view")) {
    return Response::Redirect("/orgs?notice=left");
  }
  return Response::Redirect("/orgs/" + UrlEncode(org_id) + "?notice=removed");
}

}  // namespace

void AddOrgPages(Router& router, App& app) {
  router.Add(AppRoute("GET", "/orgs", Access::SignedIn(),
                      "The organizations page: yours, and a create form", Orgs, app));
  router.Add(AppRoute("POST", "/orgs", Access::SignedIn(),
                      "Create an organization (form; the creator owns it)", CreateOrgForm, app));
  router.Add(AppRoute("GET", "/orgs/{id}", Access::Permission("organization:{id}#view"),
                      "An organization's page: members and roles", Org, app));
  router.Add(AppRoute("POST", "/orgs/{id}/members", CommandAccess("organization.add_member"),
                      "Add a member by username (form)", AddMemberForm, app));
  router.Add(AppRoute("POST", "/orgs/{id}/members/{user_id}/remove",
                      CommandAccess("organization.remove_member"),
                      "Remove a member (form; never the last owner)", RemoveMemberForm, app));
}

}  // namespace strato::http
