// Reads of the organizations read model (organizations, organization_members, with users'
// names), as structs that the JSON API and the pages both render: one query per question,
// written once. Each function takes a session from the caller's pool and runs parameterized
// statements on it; none keeps state. Safe from any thread with its own session.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "events/pg/pg.h"

namespace strato::projections {

struct OrgMember {
  std::string user_id, username, display_name;
  std::string role;  // "owner" or "member"
};

struct OrgDetail {
  std::string id, name;
  // The version of the organization's stream the row shows (for ETag / If-Match): the last
  // event of that stream the organizations projection had folded when the row was read.
  int64_t version = 0;
  std::vector<OrgMember> members;  // owners first, then by username
  int64_t vm_count = 0;            // VMs of the organization not deleted
};

// One organization with its members; nullopt when there is none with that id.
Result<std::optional<OrgDetail>> ReadOrganization(events::PgConnection& db,
                                                  const std::string& org_id);

struct OrgListItem {
  std::string id, name;
  std::string role;  // the asking user's role in it ("" when not a member)
};

struct OrgListRequest {
  std::vector<std::string> ids;  // the organizations the user may view
  std::string user_id;           // whose role to show
  // Keyset paging on (name, id): items after this one; none: from the start.
  std::optional<std::pair<std::string, std::string>> after;
  int64_t limit = 0;  // at most this many (0: all)
};

// The organizations of `ids`, ordered by name then id.
Result<std::vector<OrgListItem>> ReadOrganizations(events::PgConnection& db,
                                                   const OrgListRequest& request);

// An organization's name; nullopt when there is none with that id.
Result<std::optional<std::string>> ReadOrganizationName(events::PgConnection& db,
                                                        const std::string& org_id);

// A user's id by username; nullopt when nobody has that name.
Result<std::optional<std::string>> FindUserIdByUsername(events::PgConnection& db,
                                                        const std::string& username);

}  // namespace strato::projections
