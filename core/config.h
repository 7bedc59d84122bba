// Configuration from environment variables. Each reader names the variable in its error
// sentence, so a process can print the Status and exit. The environment is read through an
// Env interface so tests can supply their own; ProcessEnv reads getenv (thread-safe for reads).
#pragma once

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
// A NATS URL: nats://host:port (comma-separated list allowed).
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

// Everything `strato serve` needs.
struct ServeConfig {
  std::string database_url;
  std::string nats_url;
  Environment environment = Environment::kProduction;
  HostPort http_addr;
  RelyingPartyConfig relying_party;
};
Result<ServeConfig> ReadServeConfig(const Env& env);

}  // namespace strato
