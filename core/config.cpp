#include "core/config.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "core/parse.h"

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
  std::optional<int64_t> port = ParseInt(port_text, 0, 65535);
  if (!port) {
    return Status::InvalidArgument(name + " is \"" + value + "\"; the port must be 0-65535");
  }
  return HostPort{host, static_cast<int>(*port)};
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
  // Every comma-separated entry, spaces around it trimmed, must be a nats:// URL; an empty
  // entry (",," or a trailing comma) is a mistake worth saying rather than skipping.
  std::string_view rest = *v;
  for (;;) {
    auto comma = rest.find(',');
    std::string_view one = rest.substr(0, comma);
    while (!one.empty() && (one.front() == ' ' || one.front() == '\t')) one.remove_prefix(1);
    while (!one.empty() && (one.back() == ' ' || one.back() == '\t')) one.remove_suffix(1);
    if (one.empty()) {
      return Status::InvalidArgument(
          "NATS_URL has an empty entry (two commas together, or one at either end); it must "
          "be nats://host:port or a comma-separated list of them");
    }
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
  std::optional<int64_t> n = ParseInt(*v, min, max);
  if (!n) {
    return Status::InvalidArgument(name + " is \"" + *v + "\"; it must be a whole number from " +
                                   std::to_string(min) + " to " + std::to_string(max));
  }
  return *n;
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
  auto uv = ReadRequireUserVerification(env);
  if (!uv.ok()) return uv.status();
  c.require_user_verification = *uv;
  auto anchors = ReadAttestationTrustAnchors(env);
  if (!anchors.ok()) return anchors.status();
  c.attestation_trust_anchors = *anchors;
  auto proxies = ReadTrustedProxies(env);
  if (!proxies.ok()) return proxies.status();
  c.trusted_proxies = *proxies;
  auto metrics_token = ReadMetricsToken(env);
  if (!metrics_token.ok()) return metrics_token.status();
  c.metrics_token = *metrics_token;
  auto per_user = ReadInt(env, "STRATO_LIVE_STREAMS_PER_USER", 16, 1, 128);
  if (!per_user.ok()) return per_user.status();
  c.live_streams_per_user = static_cast<int>(*per_user);
  auto replicas = ReadInt(env, "STRATO_NATS_STREAM_REPLICAS", 1, 1, 5);
  if (!replicas.ok()) return replicas.status();
  c.stream_replicas = static_cast<int>(*replicas);
  return c;
}

std::optional<IpAddress> ParseIpAddress(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;  // INET6_ADDRSTRLEN - 1
  std::string s(text);
  IpAddress out{};
  if (s.find(':') == std::string::npos) {
    in_addr v4{};
    if (inet_pton(AF_INET, s.c_str(), &v4) != 1) return std::nullopt;
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
  std::memcpy(out.data(), &v6, 16);
  return out;
}

namespace {

bool IsV4Mapped(const IpAddress& a) {
  for (int i = 0; i < 10; ++i) {
    if (a[i] != 0) return false;
  }
  return a[10] == 0xff && a[11] == 0xff;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string FormatIpAddress(const IpAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (IsV4Mapped(address)) {
    inet_ntop(AF_INET, address.data() + 12, text, sizeof text);
  } else {
    inet_ntop(AF_INET6, address.data(), text, sizeof text);
  }
  return text;
}

Result<TrustedProxies> TrustedProxies::Parse(const std::string& name, std::string_view list) {
  TrustedProxies out;
  if (Trim(list).empty()) return out;
  while (true) {
    size_t comma = list.find(',');
    std::string_view entry = Trim(list.substr(0, comma));
    auto refuse = [&](const std::string& why) {
      return Status::InvalidArgument(name + " holds \"" + std::string(entry) + "\", which " + why +
                                     "; list proxy addresses (10.0.0.5, ::1) and networks "
                                     "(10.0.0.0/8, fd00::/8) separated by commas");
    };
    size_t slash = entry.find('/');
    auto address = ParseIpAddress(entry.substr(0, slash));
    if (!address) return refuse("is not an IP address or network");
    Network n;
    n.base = *address;
    const bool v4 = IsV4Mapped(*address) && entry.find(':') == std::string_view::npos;
    if (slash != std::string_view::npos) {
      std::string_view bits = entry.substr(slash + 1);
      std::optional<int64_t> prefix;
      if (bits.size() <= 3 && bits.find_first_not_of("0123456789") == std::string_view::npos) {
        prefix = ParseInt(bits, 0, v4 ? 32 : 128);
      }
      if (!prefix) {
        return refuse(std::string("has a prefix length that is not 0 to ") + (v4 ? "32" : "128"));
      }
      n.prefix = static_cast<int>(v4 ? *prefix + 96 : *prefix);
    }
    for (int bit = n.prefix; bit < 128; ++bit) {
      if (n.base[bit / 8] & (0x80 >> (bit % 8))) {
        return refuse("has bits set after its prefix (write the network's first address)");
      }
    }
    out.networks_.push_back(n);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

bool TrustedProxies::Contains(const IpAddress& address) const {
  for (const Network& n : networks_) {
    int whole = n.prefix / 8;
    int rest = n.prefix % 8;
    if (std::memcmp(address.data(), n.base.data(), whole) != 0) continue;
    if (rest != 0) {
      uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
      if ((address[whole] & mask) != n.base[whole]) continue;
    }
    return true;
  }
  return false;
}

bool TrustedProxies::Contains(std::string_view address) const {
  auto a = ParseIpAddress(address);
  return a && Contains(*a);
}

std::string TrustedProxies::ClientAddress(const std::string& peer,
                                          std::string_view forwarded_for) const {
  if (networks_.empty() || !Contains(peer) || Trim(forwarded_for).empty()) return peer;
  // Right to left: the entry each trusted hop appended, until one that no trusted proxy holds.
  std::optional<IpAddress> leftmost;
  std::string_view rest = forwarded_for;
  while (true) {
    size_t comma = rest.rfind(',');
    std::string_view entry = Trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    auto address = ParseIpAddress(entry);
    if (!address) return peer;  // malformed where it matters: believe nothing
    if (!Contains(*address)) return FormatIpAddress(*address);
    leftmost = address;
    if (comma == std::string_view::npos) break;
    rest = rest.substr(0, comma);
  }
  return FormatIpAddress(*leftmost);
}

Result<TrustedProxies> ReadTrustedProxies(const Env& env) {
  return TrustedProxies::Parse("STRATO_TRUSTED_PROXIES",
                               env.Get("STRATO_TRUSTED_PROXIES").value_or(""));
}

Result<std::string> ReadMetricsToken(const Env& env) {
  std::string token = env.Get("STRATO_METRICS_TOKEN").value_or("");
  if (token.empty()) return token;
  if (token.size() < 32 || token.size() > 200) {
    return Status::InvalidArgument(
        "STRATO_METRICS_TOKEN is " + std::to_string(token.size()) +
        " characters long; it must be 32 to 200 (for example the output of openssl rand -hex 32)");
  }
  for (char ch : token) {
    if (ch < 0x21 || ch > 0x7e) {
      return Status::InvalidArgument(
          "STRATO_METRICS_TOKEN holds a space or a character that is not visible ASCII; use "
          "letters, digits and punctuation only (for example the output of openssl rand -hex 32)");
    }
  }
  return token;
}

Result<bool> ReadRequireUserVerification(const Env& env) {
  auto v = env.Get("STRATO_WEBAUTHN_USER_VERIFICATION");
  if (!v || v->empty() || *v == "preferred") return false;
  if (*v == "required") return true;
  return Status::InvalidArgument("STRATO_WEBAUTHN_USER_VERIFICATION is \"" + *v +
                                 "\"; it must be preferred or required");
}

Result<std::string> ReadAttestationTrustAnchors(const Env& env) {
  auto v = env.Get("STRATO_WEBAUTHN_TRUST_ANCHORS");
  if (!v || v->empty()) return std::string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(*v, ec)) {
    return Status::InvalidArgument("STRATO_WEBAUTHN_TRUST_ANCHORS is \"" + *v +
                                   "\", which is not a file; set it to a PEM file of CA "
                                   "certificates, or leave it unset to accept any authenticator");
  }
  std::ifstream in(*v);
  if (!in.is_open()) {
    return Status::InvalidArgument("STRATO_WEBAUTHN_TRUST_ANCHORS is \"" + *v +
                                   "\", which cannot be read (" + std::strerror(errno) + ")");
  }
  return *v;
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
