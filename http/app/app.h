// App: what route handlers share — the database pool for read models, the command side, the
// sign-in store, the projection runner to wait on (read-your-writes), the relying party and
// the environment. Route modules (auth_routes.h, ...) add their routes to a Router with a
// reference to it.
//
// Everything here is borrowed: the owner (CmdServe, or a test) keeps it alive longer than the
// server. Thread-safe as its parts are.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/webauthn/relying_party.h"
#include "events/commands/domain_commands.h"
#include "events/pg/pg_pool.h"
#include "http/server/pipeline.h"
#include "http/server/router.h"
#include "projections/queries/pg_queries.h"
#include "projections/queries/queries.h"
#include "projections/queries/tuple_feed.h"
#include "projections/runner/runner.h"

namespace strato::http {

class AuthStore;  // http/auth/auth_store.h
class LiveHub;
class VmDirectory;
class StreamOrganizations;

// Whether this `strato serve` instance leads (leader_terms, http/cli/cli.cpp), in which term
// and since when (RFC 3339); term 0 and since "" while it does not.
struct LeaderInfo {
  bool leading = false;
  int64_t term = 0;
  std::string since;
};

struct App {
  events::PgPool& db;
  events::DomainCommands& commands;
  AuthStore& auth;
  const projections::ProjectionRunner& projections;
  webauthn::RelyingParty relying_party;
  std::string relying_party_name = "Strato";
  Environment environment = Environment::kProduction;
  const Clock& clock = SystemClock::Instance();
  std::chrono::milliseconds read_your_writes_timeout{5000};
  const projections::TupleFeed* tuples = nullptr;  // the authorization engine's tuples
  // The log, for reads that fold it (state as of a time, chain verification). Handlers never
  // append to it themselves: commands go through `commands`.
  events::EventStore* log = nullptr;
  // Every read of a read model (projections/queries/queries.h): PostgreSQL through `db` unless
  // replaced (handler tests give an in-memory fake).
  std::shared_ptr<const projections::Queries> queries =
      std::make_shared<projections::PgQueries>(db);
  // The relay's last published position when this process leads (for /metrics); empty or
  // returning nullopt otherwise.
  std::function<std::optional<int64_t>()> relay_published;
  // This instance's leadership (for /metrics); empty outside `strato serve`.
  std::function<LeaderInfo()> leader;
  LiveHub* live = nullptr;  // live updates (server-sent events); null: not running
  // The live-update hub's position (set with `live`): AppRoute stamps it on each request so
  // that a page's stream starts after what the page read. Empty: no hub.
  std::function<int64_t()> live_head;
  VmDirectory* vm_directory = nullptr;  // the VM list in memory (set by WebStack)
  // Which organization a stream belongs to, as learnt (http/app/visibility.h; set by WebStack).
  StreamOrganizations* stream_organizations = nullptr;

  // Sign-in policy (STRATO_WEBAUTHN_USER_VERIFICATION, STRATO_WEBAUTHN_TRUST_ANCHORS): whether
  // every ceremony requires user verification (PIN or biometric), and the attestation roots
  // (DER) a new passkey must chain to; empty: any authenticator is accepted.
  bool require_user_verification = false;
  std::vector<std::vector<uint8_t>> attestation_trust_anchors;
  // Ceremony starts per username (on top of the pipeline's per-address limit), so that many
  // clients behind one address, or many addresses, cannot hammer one account. Null: no limit.
  RateLimiter* username_limiter = nullptr;

  // Waits until every projection — and the authorization tuples — have applied `position` (a
  // command's last event), so the page rendered next shows it and the next permission check
  // sees it. kDeadlineExceeded after the timeout.
  Status WaitForReadModels(int64_t position) const;
};

// A route whose handler gets the App: the route modules' one way to declare a route.
Route AppRoute(std::string method, std::string pattern, Access access, std::string summary,
               std::function<Response(App&, Request&)> handler, App& app,
               bool rate_limited = false);

// The access of a route that runs the command named `command` ("vm.start"): the permission the
// command table declares for it (events/commands/domain_commands.h), with its entity id taken
// from the path parameter `id_param`. The API's and the pages' routes of one command take it
// from here, so the permission is written once. A command the table does not know, or one no
// person may run ("system", "public"), gives an undeclared access: the server refuses to start.
Access CommandAccess(std::string_view command, std::string_view id_param = "id");

// The CommandContext for a request: the signed-in user (or "system"), a command id from the
// Idempotency-Key header when one is given (else fresh), the client address.
events::CommandContext ContextFor(const Request& request);

}  // namespace strato::http
