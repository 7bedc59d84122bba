#include "projections/queries/org_queries.h"

#include "core/domain/organization.h"

namespace strato::projections {

Result<std::optional<OrgDetail>> ReadOrganization(events::PgConnection& db,
                                                  const std::string& org_id) {
  // The version is read with the row, before the members: members read later can only be
  // newer, so a version is never ahead of what is shown (at worst a needless 409, never a lost
  // one). Rows and checkpoint commit together, so one statement sees both as of one snapshot.
  auto org = db.Exec(
      "SELECT o.name, (SELECT coalesce(max(e.stream_version), 0) FROM events e WHERE "
      "e.stream_id = $2 AND e.global_position <= coalesce((SELECT c.position FROM "
      "projection_checkpoints c WHERE c.name = 'organizations'), 0)), (SELECT count(*) FROM vms "
      "v WHERE v.org_id = $1 AND NOT v.deleted) FROM organizations o WHERE o.org_id = $1",
      {org_id, domain::OrganizationStreamId(org_id)});
  if (!org.ok()) return org.status().WithContext("reading organization " + org_id);
  if (org->rows() == 0) return std::optional<OrgDetail>();
  OrgDetail d;
  d.id = org_id;
  d.name = std::string(org->Get(0, 0));
  d.version = org->GetInt64(0, 1);
  d.vm_count = org->GetInt64(0, 2);
  auto members = db.Exec(
      "SELECT m.user_id, coalesce(u.username, ''), coalesce(u.display_name, ''), m.role FROM "
      "organization_members m LEFT JOIN users u ON u.user_id = m.user_id WHERE m.org_id = $1 "
      "ORDER BY m.role DESC, u.username, m.user_id",
      {org_id});
  if (!members.ok()) return members.status().WithContext("reading the members of " + org_id);
  for (int i = 0; i < members->rows(); ++i) {
    d.members.push_back({std::string(members->Get(i, 0)), std::string(members->Get(i, 1)),
                         std::string(members->Get(i, 2)), std::string(members->Get(i, 3))});
  }
  return std::optional<OrgDetail>(std::move(d));
}

Result<std::vector<OrgListItem>> ReadOrganizations(events::PgConnection& db,
                                                   const OrgListRequest& request) {
  events::PgArray ids;
  for (const std::string& id : request.ids) ids.Add(id);
  auto r = db.Exec(
      "SELECT o.org_id, o.name, coalesce(m.role, '') FROM organizations o LEFT JOIN "
      "organization_members m ON m.org_id = o.org_id AND m.user_id = $2 WHERE o.org_id = "
      "ANY($1::text[]) AND (NOT $3::boolean OR (o.name, o.org_id) > ($4::text, $5::text)) ORDER "
      "BY o.name, o.org_id LIMIT CASE WHEN $6::bigint > 0 THEN $6::bigint END",
      {ids.Literal(), request.user_id, request.after ? "true" : "false",
       request.after ? request.after->first : "", request.after ? request.after->second : "",
       std::to_string(request.limit)});
  if (!r.ok()) return r.status().WithContext("reading organizations");
  std::vector<OrgListItem> out;
  out.reserve(static_cast<size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back(
        {std::string(r->Get(i, 0)), std::string(r->Get(i, 1)), std::string(r->Get(i, 2))});
  }
  return out;
}

Result<std::optional<std::string>> ReadOrganizationName(events::PgConnection& db,
                                                        const std::string& org_id) {
  auto r = db.Exec("SELECT name FROM organizations WHERE org_id = $1", {org_id});
  if (!r.ok()) return r.status().WithContext("reading organization " + org_id);
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r->Get(0, 0)));
}

Result<std::optional<std::string>> FindUserIdByUsername(events::PgConnection& db,
                                                        const std::string& username) {
  auto r = db.Exec("SELECT user_id FROM users WHERE username = $1", {username});
  if (!r.ok()) return r.status().WithContext("finding user " + username);
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r->Get(0, 0)));
}

}  // namespace strato::projections
