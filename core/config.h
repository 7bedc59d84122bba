// Configuration from environment variables. Each reader names the variable in its error
// sentence, so a process can print the Status and exit. The environment is read through an
// Env interface so tests can supply their own; ProcessEnv reads getenv (thread-safe for reads).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace strato {

class Env {
 public:
  virtual ~Env() = default;
  virtual std::optional<std::string> Get(const std::string& name) const = 0;
};

class ProcessEnv final : public Env {
 public:
  std::optional<std::string> Get(const std::string& name) const override;
};

class MapEnv final : public Env {
 public:
  explicit MapEnv(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}
  MapEnv(std::initializer_list<std::pair<const std::string, std::string>> vars) : vars_(vars) {}
  std::optional<std::string> Get(const std::string& name) const override;

 private:
  std::map<std::string, std::string> vars_;
};

struct HostPort {
  std::string host;
  int port = 0;
};

enum class Environment { kDevelopment, kProduction };

// Parses "host:port" (IPv6 as "[::1]:8080"); `name` is the variable it came from.
Result<HostPort> ParseHostPort(const std::string& name, const std::string& value);

// A PostgreSQL connection URL: postgres:// or postgresql:// URI, or a key=value conninfo.
Result<std::string> ReadDatabaseUrl(const Env& env);
// A NATS URL: nats://host:port, or a comma-separated list of them (spaces around each allowed;
// empty entries refused).
Result<std::string> ReadNatsUrl(const Env& env);
// STRATO_ENV: development or production; unset means production (the safe default).
Result<Environment> ReadEnvironment(const Env& env);
// STRATO_HTTP_ADDR: host:port; unset means 127.0.0.1:8080.
Result<HostPort> ReadHttpAddr(const Env& env);
// An integer variable within [min, max]; unset gives `fallback`.
Result<int64_t> ReadInt(const Env& env, const std::string& name, int64_t fallback, int64_t min,
                        int64_t max);

// The WebAuthn relying party: WEBAUTHN_RELYING_PARTY_ID (a domain), _NAME (shown by the
// browser), _ORIGIN (one or more exact origins, comma-separated). In development they default
// to localhost, "Strato" and http://localhost:<served port> (origins empty until the port is
// known); in production ID and ORIGIN are required.
struct RelyingPartyConfig {
  std::string id;
  std::string name;
  std::vector<std::string> origins;
};
Result<RelyingPartyConfig> ReadRelyingPartyConfig(const Env& env, Environment environment);

// An IP address as 16 bytes: IPv6 as written, IPv4 as its IPv4-mapped form (::ffff:a.b.c.d), so
// an IPv4 network also matches a peer that a dual-stack socket reports as ::ffff:a.b.c.d.
using IpAddress = std::array<uint8_t, 16>;
// A plain address ("10.0.0.5", "::1"): no port, brackets, zone or surrounding spaces.
std::optional<IpAddress> ParseIpAddress(std::string_view text);
// The canonical text: IPv4 (and IPv4-mapped) dotted, IPv6 compressed ("2001:db8::1").
std::string FormatIpAddress(const IpAddress& address);

// The reverse proxies whose X-Forwarded-For is believed (STRATO_TRUSTED_PROXIES): addresses and
// networks (CIDR), IPv4 and IPv6. Empty trusts no one, and then every request's client address
// is the connecting peer's. A plain value; const methods are safe from any thread.
class TrustedProxies {
 public:
  // A comma-separated list ("10.0.0.5, 10.1.0.0/16, ::1, fd00::/8"); `name` is the variable it
  // came from, named with the bad entry in the sentence. Empty or blank: none.
  static Result<TrustedProxies> Parse(const std::string& name, std::string_view list);

  bool empty() const { return networks_.empty(); }
  // Whether `address` (plain text, as ParseIpAddress takes) lies in one of the networks.
  bool Contains(std::string_view address) const;
  bool Contains(const IpAddress& address) const;

  // The client address of a request that arrived from `peer` carrying `forwarded_for` (the
  // X-Forwarded-For values in the order they came, joined by commas; empty when absent):
  //  - a peer that is not a trusted proxy: the peer, whatever the header says;
  //  - a trusted peer: the right-most entry that is not itself a trusted proxy (each proxy
  //    appends the address it was connected from, so entries left of it are the client's own
  //    words); when every entry is trusted, the left-most; without the header, the peer;
  //  - an entry that is not a plain address on the way there: the peer (nothing believed).
  std::string ClientAddress(const std::string& peer, std::string_view forwarded_for) const;

 private:
  struct Network {
    IpAddress base{};
    int prefix = 128;  // of the 16-byte form: an IPv4 /24 is /120
  };
  std::vector<Network> networks_;
};

// STRATO_TRUSTED_PROXIES; unset or empty: none.
Result<TrustedProxies> ReadTrustedProxies(const Env& env);

// STRATO_METRICS_TOKEN: the bearer token GET /metrics asks for; unset or empty gives "" (then
// /metrics answers only in development). When set, 32 to 200 visible ASCII characters.
Result<std::string> ReadMetricsToken(const Env& env);

// Everything `strato serve` needs.
struct ServeConfig {
  std::string database_url;
  std::string nats_url;
  Environment environment = Environment::kProduction;
  HostPort http_addr;
  RelyingPartyConfig relying_party;
  // STRATO_WEBAUTHN_USER_VERIFICATION: "preferred" (default) or "required".
  bool require_user_verification = false;
  // STRATO_WEBAUTHN_TRUST_ANCHORS: path of a PEM file of CA certificates that attestations must
  // chain to; empty (unset) accepts any authenticator.
  std::string attestation_trust_anchors;
  // STRATO_TRUSTED_PROXIES: whose X-Forwarded-For gives a request's client address.
  TrustedProxies trusted_proxies;
  // STRATO_METRICS_TOKEN (see ReadMetricsToken).
  std::string metrics_token;
  // STRATO_LIVE_STREAMS_PER_USER: live-update streams one user may hold open at once (1-128).
  int live_streams_per_user = 16;
  // STRATO_NATS_STREAM_REPLICAS: replicas of the STRATO_EVENTS stream when serve makes it (1-5).
  int stream_replicas = 1;
};
Result<ServeConfig> ReadServeConfig(const Env& env);

// STRATO_WEBAUTHN_USER_VERIFICATION: true for "required", false for "preferred" or unset.
Result<bool> ReadRequireUserVerification(const Env& env);
// STRATO_WEBAUTHN_TRUST_ANCHORS: unset or empty gives ""; otherwise the path must name a
// readable regular file (it is opened to check, not parsed: the WebAuthn code reads it).
Result<std::string> ReadAttestationTrustAnchors(const Env& env);

}  // namespace strato
