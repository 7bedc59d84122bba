#include <doctest/doctest.h>

#include "core/config.h"

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
