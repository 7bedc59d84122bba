#include "core/config.h"

#include <cstdlib>
#include <string_view>

namespace strato {

std::optional<std::string> ProcessEnv::Get(const std::string& name) const {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::optional<std::string> MapEnv::Get(const std::string& name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

namespace {

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

Result<std::string> Required(const Env& env, const std::string& name, const std::string& what) {
  auto v = env.Get(name);
  if (!v || v->empty()) {
    return Status::InvalidArgument(name + " is not set; set it to " + what);
  }
  return *v;
}

}  // namespace

Result<HostPort> ParseHostPort(const std::string& name, const std::string& value) {
  std::string host;
  std::string port_text;
  if (!value.empty() && value[0] == '[') {
    auto close = value.find(']');
    if (close == std::string::npos || close + 1 >= value.size() || value[close + 1] != ':') {
      return Status::InvalidArgument(name + " is \"" + value +
                                     "\"; an IPv6 address must look like [::1]:8080");
    }
    host = value.substr(1, close - 1);
    port_text = value.substr(close + 2);
  } else {
    auto colon = value.rfind(':');
    if (colon == std::string::npos) {
      return Status::InvalidArgument(name + " is \"" + value +
                                     "\"; it must be host:port, for example 127.0.0.1:8080");
    }
    host = value.substr(0, colon);
    port_text = value.substr(colon + 1);
  }
  if (host.empty()) {
    return Status::InvalidArgument(name + " is \"" + value + "\"; the host part is empty");
  }
  char* end = nullptr;
  long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < 0 || port > 65535) {
    return Status::InvalidArgument(name + " is \"" + value + "\"; the port must be 0-65535");
  }
  return HostPort{host, static_cast<int>(port)};
}

Result<std::string> ReadDatabaseUrl(const Env& env) {
  auto v = Required(env, "DATABASE_URL",
                    "a PostgreSQL URL such as postgresql://user@127.0.0.1:5432/strato");
  if (!v.ok()) return v;
  const std::string& s = *v;
  if (!StartsWith(s, "postgres://") && !StartsWith(s, "postgresql://") &&
      s.find('=') == std::string::npos) {
    return Status::InvalidArgument(
        "DATABASE_URL must be a postgresql:// URL or a key=value connection string");
  }
  return s;
}

Result<std::string> ReadNatsUrl(const Env& env) {
  auto v = Required(env, "NATS_URL", "a NATS URL such as nats://127.0.0.1:4222");
  if (!v.ok()) return v;
  std::string_view rest = *v;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view one = rest.substr(0, comma);
    if (!StartsWith(one, "nats://") || one.size() <= 7) {
      return Status::InvalidArgument("NATS_URL has \"" + std::string(one) +
                                     "\"; each URL must look like nats://host:port");
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return *v;
}

Result<Environment> ReadEnvironment(const Env& env) {
  auto v = env.Get("STRATO_ENV");
  if (!v || v->empty() || *v == "production") return Environment::kProduction;
  if (*v == "development") return Environment::kDevelopment;
  return Status::InvalidArgument("STRATO_ENV is \"" + *v +
                                 "\"; it must be development or production");
}

Result<HostPort> ReadHttpAddr(const Env& env) {
  auto v = env.Get("STRATO_HTTP_ADDR");
  if (!v || v->empty()) return HostPort{"127.0.0.1", 8080};
  return ParseHostPort("STRATO_HTTP_ADDR", *v);
}

Result<int64_t> ReadInt(const Env& env, const std::string& name, int64_t fallback, int64_t min,
                        int64_t max) {
  auto v = env.Get(name);
  if (!v || v->empty()) return fallback;
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v->c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE || n < min || n > max) {
    return Status::InvalidArgument(name + " is \"" + *v + "\"; it must be a whole number from " +
                                   std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<int64_t>(n);
}

Result<ServeConfig> ReadServeConfig(const Env& env) {
  ServeConfig c;
  auto db = ReadDatabaseUrl(env);
  if (!db.ok()) return db.status();
  c.database_url = *db;
  auto nats = ReadNatsUrl(env);
  if (!nats.ok()) return nats.status();
  c.nats_url = *nats;
  auto e = ReadEnvironment(env);
  if (!e.ok()) return e.status();
  c.environment = *e;
  auto addr = ReadHttpAddr(env);
  if (!addr.ok()) return addr.status();
  c.http_addr = *addr;
  auto rp = ReadRelyingPartyConfig(env, c.environment);
  if (!rp.ok()) return rp.status();
  c.relying_party = *rp;
  return c;
}

Result<RelyingPartyConfig> ReadRelyingPartyConfig(const Env& env, Environment environment) {
  RelyingPartyConfig rp;
  const bool dev = environment == Environment::kDevelopment;
  rp.id = env.Get("WEBAUTHN_RELYING_PARTY_ID").value_or("");
  rp.name = env.Get("WEBAUTHN_RELYING_PARTY_NAME").value_or("Strato");
  std::string origins = env.Get("WEBAUTHN_RELYING_PARTY_ORIGIN").value_or("");
  if (rp.id.empty()) {
    if (!dev) {
      return Status::InvalidArgument(
          "WEBAUTHN_RELYING_PARTY_ID is not set; set it to the domain people use to reach "
          "Strato (e.g. cloud.example.com)");
    }
    rp.id = "localhost";
  }
  for (char ch : rp.id) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
    if (!ok) {
      return Status::InvalidArgument("WEBAUTHN_RELYING_PARTY_ID \"" + rp.id +
                                     "\" is not a lowercase domain name");
    }
  }
  if (rp.name.empty() || rp.name.size() > 64) {
    return Status::InvalidArgument("WEBAUTHN_RELYING_PARTY_NAME must be 1 to 64 characters long");
  }
  size_t start = 0;
  while (start <= origins.size() && !origins.empty()) {
    size_t comma = origins.find(',', start);
    std::string o =
        origins.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!o.empty() && o.front() == ' ') o.erase(0, 1);
    while (!o.empty() && o.back() == ' ') o.pop_back();
    bool https = o.rfind("https://", 0) == 0;
    bool http = o.rfind("http://", 0) == 0;
    if (!https && !(http && dev)) {
      return Status::InvalidArgument("WEBAUTHN_RELYING_PARTY_ORIGIN holds \"" + o +
                                     "\"; each origin must start with https:// (http:// only in "
                                     "development)");
    }
    if (o.back() == '/') {
      return Status::InvalidArgument("WEBAUTHN_RELYING_PARTY_ORIGIN holds \"" + o +
                                     "\"; an origin has no path, not even a trailing /");
    }
    rp.origins.push_back(o);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (rp.origins.empty() && !dev) {
    return Status::InvalidArgument(
        "WEBAUTHN_RELYING_PARTY_ORIGIN is not set; set it to the origin people use, e.g. "
        "https://cloud.example.com");
  }
  return rp;
}

}  // namespace strato
