#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "core/config.h"
#include "events/bus/nats_bus.h"

using namespace strato;

TEST_CASE("serve configuration reads every variable") {
  MapEnv env{{"DATABASE_URL", "postgresql://u@127.0.0.1:5432/strato"},
             {"NATS_URL", "nats://127.0.0.1:4222"},
             {"STRATO_ENV", "development"},
             {"STRATO_HTTP_ADDR", "0.0.0.0:9090"}};
  auto c = ReadServeConfig(env);
  REQUIRE(c.ok());
  CHECK(c->database_url == "postgresql://u@127.0.0.1:5432/strato");
  CHECK(c->environment == Environment::kDevelopment);
  CHECK(c->http_addr.host == "0.0.0.0");
  CHECK(c->http_addr.port == 9090);
}

TEST_CASE("a missing or bad variable is refused with a sentence naming it") {
  auto missing = ReadServeConfig(MapEnv{{"NATS_URL", "nats://x:1"}});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("DATABASE_URL is not set") == 0);

  auto bad_nats = ReadNatsUrl(MapEnv{{"NATS_URL", "http://x:1"}});
  REQUIRE_FALSE(bad_nats.ok());
  CHECK(bad_nats.status().message().find("NATS_URL") != std::string::npos);

  auto bad_env = ReadEnvironment(MapEnv{{"STRATO_ENV", "staging"}});
  REQUIRE_FALSE(bad_env.ok());
  CHECK(bad_env.status().message().find("STRATO_ENV is \"staging\"") == 0);

  auto bad_port = ReadHttpAddr(MapEnv{{"STRATO_HTTP_ADDR", "127.0.0.1:99999"}});
  REQUIRE_FALSE(bad_port.ok());
  CHECK(bad_port.status().message().find("STRATO_HTTP_ADDR") == 0);

  auto no_port = ReadHttpAddr(MapEnv{{"STRATO_HTTP_ADDR", "localhost"}});
  CHECK_FALSE(no_port.ok());

  auto bad_db = ReadDatabaseUrl(MapEnv{{"DATABASE_URL", "mysql://x"}});
  CHECK_FALSE(bad_db.ok());
}

TEST_CASE("a NATS_URL list is accepted only when every entry is a nats:// URL") {
  auto list = ReadNatsUrl(MapEnv{{"NATS_URL", "nats://a:4222, nats://b:4222 ,nats://c:4222"}});
  REQUIRE_MESSAGE(list.ok(), list.status().ToString());

  for (const char* bad :
       {"nats://a:4222,,nats://b:4222", "nats://a:4222,", ",nats://a:4222", "nats://a:4222, ",
        "nats://a:4222,http://b:4222", "nats://a:4222,b:4222", "nats://a:4222,nats://", " , "}) {
    INFO(bad);
    auto r = ReadNatsUrl(MapEnv{{"NATS_URL", bad}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().message().find("NATS_URL") == 0);
  }
}

TEST_CASE("a NATS_URL list splits into the servers given to nats.c with spaces trimmed") {
  using events::SplitNatsUrls;
  CHECK(SplitNatsUrls("nats://a:4222") == std::vector<std::string>{"nats://a:4222"});
  CHECK(SplitNatsUrls(" nats://a:4222, nats://u:p@b:4222 ,\tnats://c:4222\t") ==
        std::vector<std::string>{"nats://a:4222", "nats://u:p@b:4222", "nats://c:4222"});
  CHECK(SplitNatsUrls("nats://a:4222,,nats://b:4222,") ==
        std::vector<std::string>{"nats://a:4222", "nats://b:4222"});
  CHECK(SplitNatsUrls("").empty());
  CHECK(SplitNatsUrls(" , ").empty());
}

TEST_CASE("defaults are production and 127.0.0.1:8080 and IPv6 addresses parse") {
  CHECK(*ReadEnvironment(MapEnv{}) == Environment::kProduction);
  auto addr = ReadHttpAddr(MapEnv{});
  CHECK(addr->port == 8080);
  auto v6 = ParseHostPort("X", "[::1]:8443");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 8443);
}

TEST_CASE("integers are range-checked") {
  CHECK(*ReadInt(MapEnv{}, "N", 5, 1, 10) == 5);
  CHECK(*ReadInt(MapEnv{{"N", "7"}}, "N", 5, 1, 10) == 7);
  CHECK_FALSE(ReadInt(MapEnv{{"N", "11"}}, "N", 5, 1, 10).ok());
  CHECK_FALSE(ReadInt(MapEnv{{"N", "7x"}}, "N", 5, 1, 10).ok());
  // Exactly a whole number (ParseInt): no "+", no spaces, nothing that overflows.
  CHECK_FALSE(ReadInt(MapEnv{{"N", "+7"}}, "N", 5, 1, 10).ok());
  CHECK_FALSE(ReadInt(MapEnv{{"N", " 7"}}, "N", 5, 1, 10).ok());
  CHECK_FALSE(ReadInt(MapEnv{{"N", "99999999999999999999"}}, "N", 5, 1, 10).ok());
  CHECK(ReadInt(MapEnv{{"N", "-1"}}, "N", 5, 1, 10).status().message() ==
        "N is \"-1\"; it must be a whole number from 1 to 10");
  CHECK_FALSE(ParseHostPort("X", "h:+80").ok());
  CHECK_FALSE(ParseHostPort("X", "h:65536").ok());
  CHECK(ParseHostPort("X", "h:").status().message() == "X is \"h:\"; the port must be 0-65535");
}

TEST_CASE("the relying party defaults to localhost in development and is required in production") {
  auto dev = ReadRelyingPartyConfig(MapEnv{}, Environment::kDevelopment);
  REQUIRE(dev.ok());
  CHECK(dev->id == "localhost");
  CHECK(dev->name == "Strato");
  CHECK(dev->origins.empty());  // filled with the served port

  auto prod = ReadRelyingPartyConfig(MapEnv{}, Environment::kProduction);
  REQUIRE_FALSE(prod.ok());
  CHECK(prod.status().message().find("WEBAUTHN_RELYING_PARTY_ID is not set") == 0);

  auto set =
      ReadRelyingPartyConfig(MapEnv{{"WEBAUTHN_RELYING_PARTY_ID", "cloud.example.com"},
                                    {"WEBAUTHN_RELYING_PARTY_NAME", "Example Cloud"},
                                    {"WEBAUTHN_RELYING_PARTY_ORIGIN",
                                     "https://cloud.example.com, https://admin.cloud.example.com"}},
                             Environment::kProduction);
  REQUIRE(set.ok());
  CHECK(set->id == "cloud.example.com");
  CHECK(set->name == "Example Cloud");
  CHECK(set->origins ==
        std::vector<std::string>{"https://cloud.example.com", "https://admin.cloud.example.com"});

  auto http =
      ReadRelyingPartyConfig(MapEnv{{"WEBAUTHN_RELYING_PARTY_ID", "cloud.example.com"},
                                    {"WEBAUTHN_RELYING_PARTY_ORIGIN", "http://cloud.example.com"}},
                             Environment::kProduction);
  REQUIRE_FALSE(http.ok());
  CHECK(http.status().message().find("must start with https://") != std::string::npos);
  auto path = ReadRelyingPartyConfig(
      MapEnv{{"WEBAUTHN_RELYING_PARTY_ORIGIN", "https://cloud.example.com/"}},
      Environment::kDevelopment);
  CHECK(path.status().message().find("an origin has no path") != std::string::npos);
  auto bad_id = ReadRelyingPartyConfig(MapEnv{{"WEBAUTHN_RELYING_PARTY_ID", "Cloud Example"}},
                                       Environment::kDevelopment);
  CHECK(bad_id.status().message() ==
        "WEBAUTHN_RELYING_PARTY_ID \"Cloud Example\" is not a lowercase domain name");
}

TEST_CASE("user verification is preferred by default or required on request and nothing else") {
  CHECK(*ReadRequireUserVerification(MapEnv{}) == false);
  CHECK(*ReadRequireUserVerification(MapEnv{{"STRATO_WEBAUTHN_USER_VERIFICATION", ""}}) == false);
  CHECK(*ReadRequireUserVerification(MapEnv{{"STRATO_WEBAUTHN_USER_VERIFICATION", "preferred"}}) ==
        false);
  CHECK(*ReadRequireUserVerification(MapEnv{{"STRATO_WEBAUTHN_USER_VERIFICATION", "required"}}) ==
        true);
  auto bad = ReadRequireUserVerification(MapEnv{{"STRATO_WEBAUTHN_USER_VERIFICATION", "Required"}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        "STRATO_WEBAUTHN_USER_VERIFICATION is \"Required\"; it must be preferred or required");

  MapEnv serve{{"DATABASE_URL", "postgresql://u@127.0.0.1:5432/strato"},
               {"NATS_URL", "nats://127.0.0.1:4222"},
               {"STRATO_ENV", "development"},
               {"STRATO_WEBAUTHN_USER_VERIFICATION", "required"}};
  auto c = ReadServeConfig(serve);
  REQUIRE(c.ok());
  CHECK(c->require_user_verification);
  CHECK(c->attestation_trust_anchors.empty());
  auto refused = ReadServeConfig(MapEnv{{"DATABASE_URL", "postgresql://u@127.0.0.1:5432/strato"},
                                        {"NATS_URL", "nats://127.0.0.1:4222"},
                                        {"STRATO_ENV", "development"},
                                        {"STRATO_WEBAUTHN_USER_VERIFICATION", "always"}});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().find("STRATO_WEBAUTHN_USER_VERIFICATION") == 0);
}

TEST_CASE("attestation trust anchors are unset by default and must name a readable file") {
  CHECK(ReadAttestationTrustAnchors(MapEnv{})->empty());
  CHECK(ReadAttestationTrustAnchors(MapEnv{{"STRATO_WEBAUTHN_TRUST_ANCHORS", ""}})->empty());

  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("strato-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::path pem = dir / "anchors.pem";
  {
    std::ofstream out(pem);
    out << "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
  }
  auto ok = ReadAttestationTrustAnchors(MapEnv{{"STRATO_WEBAUTHN_TRUST_ANCHORS", pem.string()}});
  REQUIRE(ok.ok());
  CHECK(*ok == pem.string());

  auto missing = ReadAttestationTrustAnchors(
      MapEnv{{"STRATO_WEBAUTHN_TRUST_ANCHORS", (dir / "missing.pem").string()}});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("STRATO_WEBAUTHN_TRUST_ANCHORS is \"") == 0);
  CHECK(missing.status().message().find("not a file") != std::string::npos);

  auto directory =
      ReadAttestationTrustAnchors(MapEnv{{"STRATO_WEBAUTHN_TRUST_ANCHORS", dir.string()}});
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.status().message().find("STRATO_WEBAUTHN_TRUST_ANCHORS") == 0);

  if (::geteuid() != 0) {  // root reads a file whatever its mode
    std::filesystem::permissions(pem, std::filesystem::perms::none);
    auto unreadable =
        ReadAttestationTrustAnchors(MapEnv{{"STRATO_WEBAUTHN_TRUST_ANCHORS", pem.string()}});
    REQUIRE_FALSE(unreadable.ok());
    CHECK(unreadable.status().message().find("cannot be read") != std::string::npos);
    std::filesystem::permissions(pem, std::filesystem::perms::owner_all);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "IP addresses parse plainly and print canonically with IPv4 also read from its mapped form") {
  CHECK(FormatIpAddress(*ParseIpAddress("10.0.0.5")) == "10.0.0.5");
  CHECK(FormatIpAddress(*ParseIpAddress("::ffff:10.0.0.5")) == "10.0.0.5");
  CHECK(*ParseIpAddress("::ffff:10.0.0.5") == *ParseIpAddress("10.0.0.5"));
  CHECK(FormatIpAddress(*ParseIpAddress("2001:DB8:0:0::1")) == "2001:db8::1");
  CHECK(FormatIpAddress(*ParseIpAddress("::1")) == "::1");
  for (const char* bad : {"", "10.0.0", "10.0.0.256", "10.0.0.5:80", "[::1]", "::1%eth0",
                          " 10.0.0.5", "host.example.com", "unknown", "1:2:3:4:5:6:7:8:9"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseIpAddress(bad).has_value());
  }
}

TEST_CASE("trusted proxies are IPv4 and IPv6 addresses and networks and none by default") {
  auto none = ReadTrustedProxies(MapEnv{});
  REQUIRE(none.ok());
  CHECK(none->empty());
  CHECK(ReadTrustedProxies(MapEnv{{"STRATO_TRUSTED_PROXIES", " "}})->empty());

  auto p = ReadTrustedProxies(
      MapEnv{{"STRATO_TRUSTED_PROXIES", "10.0.0.5, 192.168.0.0/16,::1 ,fd00::/8,172.16.0.0/12"}});
  REQUIRE_MESSAGE(p.ok(), p.status().ToString());
  CHECK(p->Contains("10.0.0.5"));
  CHECK(p->Contains("::ffff:10.0.0.5"));  // as a dual-stack socket reports an IPv4 peer
  CHECK_FALSE(p->Contains("10.0.0.6"));
  CHECK(p->Contains("192.168.200.1"));
  CHECK_FALSE(p->Contains("192.169.0.1"));
  CHECK(p->Contains("172.31.255.255"));
  CHECK_FALSE(p->Contains("172.32.0.0"));
  CHECK(p->Contains("::1"));
  CHECK(p->Contains("fdab::7"));
  CHECK_FALSE(p->Contains("fe80::1"));
  CHECK_FALSE(p->Contains("not an address"));

  auto everything = TrustedProxies::Parse("X", "0.0.0.0/0");
  REQUIRE(everything.ok());
  CHECK(everything->Contains("203.0.113.9"));
  CHECK_FALSE(everything->Contains("2001:db8::1"));  // an IPv4 network holds no IPv6 address
}

TEST_CASE("a bad trusted proxy entry is refused with a sentence naming the variable and entry") {
  for (const char* list :
       {"10.0.0.300", "10.0.0.1,,10.0.0.2", "10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/x",
        "10.0.0.1/8", "proxy.example.com", "10.0.0.1:80", "10.0.0.1,"}) {
    CAPTURE(list);
    auto p = ReadTrustedProxies(MapEnv{{"STRATO_TRUSTED_PROXIES", list}});
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().message().find("STRATO_TRUSTED_PROXIES holds \"") == 0);
  }
  auto p = ReadTrustedProxies(MapEnv{{"STRATO_TRUSTED_PROXIES", "10.0.0.5, 10.0.0.300"}});
  CHECK(p.status().message().find("STRATO_TRUSTED_PROXIES holds \"10.0.0.300\", which is not an "
                                  "IP address or network") == 0);
  auto host_bits = ReadTrustedProxies(MapEnv{{"STRATO_TRUSTED_PROXIES", "10.0.0.1/8"}});
  CHECK(host_bits.status().message().find("first address") != std::string::npos);

  auto serve = ReadServeConfig(MapEnv{{"DATABASE_URL", "postgresql://u@127.0.0.1:5432/strato"},
                                      {"NATS_URL", "nats://127.0.0.1:4222"},
                                      {"STRATO_ENV", "development"},
                                      {"STRATO_TRUSTED_PROXIES", "nginx"}});
  REQUIRE_FALSE(serve.ok());
  CHECK(serve.status().message().find("STRATO_TRUSTED_PROXIES holds \"nginx\"") == 0);
}

TEST_CASE("the client address comes from X-Forwarded-For only when a trusted proxy sent it") {
  auto p = TrustedProxies::Parse("STRATO_TRUSTED_PROXIES", "10.0.0.5, 10.1.0.0/16, fd00::/8");
  REQUIRE(p.ok());
  // Not from a trusted proxy: the header is ignored, whatever it says.
  CHECK(p->ClientAddress("203.0.113.9", "198.51.100.1") == "203.0.113.9");
  CHECK(p->ClientAddress("203.0.113.9", "10.0.0.5") == "203.0.113.9");
  CHECK(TrustedProxies().ClientAddress("10.0.0.5", "198.51.100.1") == "10.0.0.5");
  // From a trusted proxy: the right-most entry no trusted proxy holds.
  CHECK(p->ClientAddress("10.0.0.5", "198.51.100.1") == "198.51.100.1");
  CHECK(p->ClientAddress("::ffff:10.0.0.5", " 198.51.100.1 ") == "198.51.100.1");
  // What the client wrote itself stays left of what the proxy appended.
  CHECK(p->ClientAddress("10.0.0.5", "1.2.3.4, 198.51.100.1") == "198.51.100.1");
  CHECK(p->ClientAddress("10.0.0.5", "garbage, 198.51.100.1") == "198.51.100.1");
  // Through two trusted proxies (the outer one appended the client, the inner the outer).
  CHECK(p->ClientAddress("10.0.0.5", "1.2.3.4, 198.51.100.1, 10.1.2.3") == "198.51.100.1");
  CHECK(p->ClientAddress("fd00::2", "2001:db8::7, fd00::1") == "2001:db8::7");
  CHECK(p->ClientAddress("10.0.0.5", "::ffff:198.51.100.1") == "198.51.100.1");
  // Every entry trusted: the left-most. No header: the peer.
  CHECK(p->ClientAddress("10.0.0.5", "10.1.0.9, 10.1.0.8") == "10.1.0.9");
  CHECK(p->ClientAddress("10.0.0.5", "") == "10.0.0.5");
  // Malformed where it is read: the peer, nothing believed.
  CHECK(p->ClientAddress("10.0.0.5", "198.51.100.1:4711") == "10.0.0.5");
  CHECK(p->ClientAddress("10.0.0.5", "198.51.100.1, unknown") == "10.0.0.5");
  CHECK(p->ClientAddress("10.0.0.5", "198.51.100.1,") == "10.0.0.5");
  CHECK(p->ClientAddress("10.0.0.5", "[2001:db8::7]") == "10.0.0.5");
}

TEST_CASE("the metrics token is unset by default and at least 32 visible characters when set") {
  CHECK(ReadMetricsToken(MapEnv{})->empty());
  CHECK(ReadMetricsToken(MapEnv{{"STRATO_METRICS_TOKEN", ""}})->empty());
  const std::string token(32, 'a');
  CHECK(*ReadMetricsToken(MapEnv{{"STRATO_METRICS_TOKEN", token}}) == token);
  auto short_one = ReadMetricsToken(MapEnv{{"STRATO_METRICS_TOKEN", std::string(31, 'a')}});
  REQUIRE_FALSE(short_one.ok());
  CHECK(short_one.status().message().find("STRATO_METRICS_TOKEN is 31 characters long") == 0);
  auto spaced = ReadMetricsToken(MapEnv{{"STRATO_METRICS_TOKEN", token + " b"}});
  REQUIRE_FALSE(spaced.ok());
  CHECK(spaced.status().message().find("STRATO_METRICS_TOKEN") == 0);
  // The token itself never appears in a sentence (it would reach the logs).
  CHECK(spaced.status().message().find(token) == std::string::npos);
}

TEST_CASE("live streams per user default to 16 and are range-checked") {
  MapEnv base{{"DATABASE_URL", "postgresql://u@127.0.0.1:5432/strato"},
              {"NATS_URL", "nats://127.0.0.1:4222"},
              {"STRATO_ENV", "development"}};
  auto c = ReadServeConfig(base);
  REQUIRE(c.ok());
  CHECK(c->live_streams_per_user == 16);
  CHECK(c->trusted_proxies.empty());
  CHECK(c->metrics_token.empty());
  auto four = ReadServeConfig(MapEnv{{"DATABASE_URL", "postgresql://u@127.0.0.1:5432/strato"},
                                     {"NATS_URL", "nats://127.0.0.1:4222"},
                                     {"STRATO_ENV", "development"},
                                     {"STRATO_LIVE_STREAMS_PER_USER", "4"}});
  REQUIRE(four.ok());
  CHECK(four->live_streams_per_user == 4);
  auto zero = ReadServeConfig(MapEnv{{"DATABASE_URL", "postgresql://u@127.0.0.1:5432/strato"},
                                     {"NATS_URL", "nats://127.0.0.1:4222"},
                                     {"STRATO_ENV", "development"},
                                     {"STRATO_LIVE_STREAMS_PER_USER", "0"}});
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.status().message().find("STRATO_LIVE_STREAMS_PER_USER is \"0\"") == 0);
}

TEST_CASE("the event stream's replica count is 1 unless STRATO_NATS_STREAM_REPLICAS says 1 to 5") {
  const std::map<std::string, std::string> base = {{"DATABASE_URL", "postgresql://u@h/db"},
                                                   {"NATS_URL", "nats://127.0.0.1:4222"},
                                                   {"STRATO_ENV", "development"}};
  auto with = [&](const char* value) {
    std::map<std::string, std::string> vars = base;
    if (value != nullptr) vars["STRATO_NATS_STREAM_REPLICAS"] = value;
    return ReadServeConfig(MapEnv(vars));
  };
  auto none = with(nullptr);
  REQUIRE_MESSAGE(none.ok(), none.status().ToString());
  CHECK(none->stream_replicas == 1);
  auto three = with("3");
  REQUIRE(three.ok());
  CHECK(three->stream_replicas == 3);
  for (const char* bad : {"0", "6", "three"}) {
    auto r = with(bad);
    CHECK_FALSE(r.ok());
    CHECK(r.status().message().find("STRATO_NATS_STREAM_REPLICAS") != std::string::npos);
  }
}
