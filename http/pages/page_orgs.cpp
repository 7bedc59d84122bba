#include "http/pages/page_orgs.h"

#include <string>
#include <vector>

#include "core/domain/organization.h"
#include "core/ids.h"
#include "core/log.h"
#include "http/app/ui_support.h"
#include "http/pages/ui_html.h"

namespace strato::http {

namespace {

struct OrgRow {
  std::string id, name, role;
};

Result<std::vector<OrgRow>> ReadOrgs(App& app, const Principal& me) {
  auto ids = UserEntities(app, me, "organization", "view");
  if (!ids.ok()) return ids.status();
  events::PgArray array;
  for (const std::string& id : **ids) array.Add(id);
  auto db = app.db.Acquire();
  if (!db.ok()) return db.status();
  auto r = (*db)->Exec(
      "SELECT o.org_id, o.name, coalesce(m.role, '') FROM organizations o LEFT JOIN "
      "organization_members m ON m.org_id = o.org_id AND m.user_id = $2 WHERE o.org_id = "
      "ANY($1::text[]) ORDER BY o.name, o.org_id",
      {array.Literal(), me.user_id});
  if (!r.ok()) return r.status().WithContext("reading your organizations");
  std::vector<OrgRow> out;
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back(
        {std::string(r->Get(i, 0)), std::string(r->Get(i, 1)), std::string(r->Get(i, 2))});
  }
  return out;
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
    for (const OrgRow& o : *orgs) {
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

struct MemberRow {
  std::string user_id, username, display_name, role;
};

Response OrgPage(App& app, Request& req, int status, const std::string& error,
                 const std::string& username_value, const std::string& role_value) {
  const Principal& me = *req.principal;
  const std::string org_id = req.Param("id");
  std::string org_name;
  std::vector<MemberRow> members;
  int64_t vm_count = 0;
  {
    auto db = app.db.Acquire();
    if (!db.ok()) return UiErrorPage(req, db.status());
    auto org = (*db)->Exec("SELECT name FROM organizations WHERE org_id = $1", {org_id});
    if (!org.ok()) return UiErrorPage(req, org.status());
    if (org->rows() == 0) {
      return UiErrorPage(req, Status::NotFound("There is no organization " + org_id + "."));
    }
    org_name = std::string(org->Get(0, 0));
    auto m = (*db)->Exec(
        "SELECT m.user_id, coalesce(u.username, ''), coalesce(u.display_name, ''), m.role FROM "
        "organization_members m LEFT JOIN users u ON u.user_id = m.user_id WHERE m.org_id = $1 "
        "ORDER BY m.role DESC, u.username, m.user_id",
        {org_id});
    if (!m.ok()) return UiErrorPage(req, m.status());
    for (int i = 0; i < m->rows(); ++i) {
      members.push_back({std::string(m->Get(i, 0)), std::string(m->Get(i, 1)),
                         std::string(m->Get(i, 2)), std::string(m->Get(i, 3))});
    }
    auto n = (*db)->Exec("SELECT count(*) FROM vms WHERE org_id = $1 AND NOT deleted", {org_id});
    if (!n.ok()) return UiErrorPage(req, n.status());
    vm_count = n->GetInt64(0, 0);
  }
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
  for (const MemberRow& m : members) {
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
    auto r = (*db)->Exec("SELECT user_id FROM users WHERE username = $1", {username});
    if (!r.ok()) return UiErrorPage(req, r.status());
    if (r->rows() == 0) {
      return OrgPage(
          app, req, 404,
          "There is no user named " + username + "; they must register before they can be added.",
          username, role_text);
    }
    user_id = std::string(r->Get(0, 0));
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
  router.Add(AppRoute("POST", "/orgs/{id}/members", Access::Permission("organization:{id}#manage"),
                      "Add a member by username (form)", AddMemberForm, app));
  router.Add(AppRoute("POST", "/orgs/{id}/members/{user_id}/remove",
                      Access::Permission("organization:{id}#manage"),
                      "Remove a member (form; never the last owner)", RemoveMemberForm, app));
}

}  // namespace strato::http
