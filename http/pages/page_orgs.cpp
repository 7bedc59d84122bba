#include "http/pages/page_orgs.h"

#include <string>
#include <vector>

#include "core/domain/organization.h"
#include "core/ids.h"
#include "core/log.h"
#include "http/app/permissions.h"
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
  View v = PageView(&me);
  v.set("notice",
        req.Query("notice") == "left"
            ? NoticeView(NoticeKind::kDone, "You are no longer a member of that organization.")
            : Flag(false));
  Put(v, "live", LiveView("org-list", "/orgs", {"org"}));
  Put(v, "has_orgs", Flag(!orgs->empty()));
  View list = ViewList();
  for (const projections::OrgListItem& o : *orgs) {
    View item = ViewObject();
    item.set("id", o.id);
    Put(item, "id_url", UrlEncode(o.id));
    item.set("name", o.name);
    item.set("role", o.role.empty() ? "viewer" : o.role);
    Append(list, std::move(item));
  }
  Put(v, "orgs", std::move(list));
  v.set("name_value", name_value);
  Put(v, "name_error", FieldErrorView("org-name-error", name_error));
  return TemplatePage(status, {"Organizations", &me, "orgs", {}, ""}, "orgs", v);
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
  const bool manage = UserMay(app, me, "organization", org_id, "manage");
  const std::string base = "/orgs/" + UrlEncode(org_id);

  View v = PageView(&me);
  v.set("org_name", org.name);
  Put(v, "org_id_url", UrlEncode(org_id));
  if (!error.empty()) {
    Put(v, "notice", NoticeView(NoticeKind::kError, error));
  } else {
    const std::string notice = req.Query("notice");
    v.set("notice", notice == "created"
                        ? NoticeView(NoticeKind::kDone, "The organization was created.")
                    : notice == "added"   ? NoticeView(NoticeKind::kDone, "The member was added.")
                    : notice == "removed" ? NoticeView(NoticeKind::kDone, "The member was removed.")
                                          : Flag(false));
  }
  Put(v, "live_vms", LiveView("org-vms", base, {"vm"}));
  Put(v, "vm_count", Number(org.vm_count));
  v.set("vm_word", org.vm_count == 1 ? "VM" : "VMs");
  Put(v, "live_members", LiveView("org-members", base, {"org-" + org_id}));
  Put(v, "manage", Flag(manage));
  View members = ViewList();
  for (const projections::OrgMember& m : org.members) {
    View item = ViewObject();
    item.set("user_id", m.user_id);
    Put(item, "user_id_url", UrlEncode(m.user_id));
    item.set("who", m.username.empty() ? m.user_id : m.username);
    Put(item, "display_name", Maybe(m.display_name != m.username ? m.display_name : std::string()));
    Put(item, "you", Flag(m.user_id == me.user_id));
    item.set("role", m.role);
    Append(members, std::move(item));
  }
  Put(v, "members", std::move(members));
  v.set("username_value", username_value);
  View roles = ViewList();
  Append(roles, OptionView("member", "member: sees and operates the organization's VMs",
                           role_value != "owner"));
  roles.push_back(
      OptionView("owner", "owner: also manages members and deletes any VM", role_value == "owner"));
  Put(v, "role_options", std::move(roles));
  return TemplatePage(status, {org.name, &me, "orgs", {}, ""}, "org", v);
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
