// Writes a seed corpus for fuzz_webauthn_cbor: the attestationObjects, authenticatorData and
// stored COSE keys of every conformance case, one file each.
// Usage: webauthn_fuzz_seeds <test/conformance/webauthn> <output directory>
#include <rapidjson/document.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "core/webauthn/base64url.h"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int written = 0;

void WriteSeed(const std::string& dir, const rapidjson::Value* b64) {
  if (b64 == nullptr || !b64->IsString()) return;
  auto bytes = strato::webauthn::Base64UrlDecode(b64->GetString());
  if (!bytes.ok() || bytes->empty()) return;
  std::ofstream out(dir + "/seed-" + std::to_string(written++), std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes->data()),
            static_cast<std::streamsize>(bytes->size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <conformance dir> <output dir>\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1], out = argv[2];
  rapidjson::Document index;
  index.Parse(ReadFile(dir + "/index.json").c_str());
  if (!index.IsObject() || !index.HasMember("cases")) {
    std::fprintf(stderr, "%s/index.json is not a case index\n", dir.c_str());
    return 1;
  }
  for (const auto& entry : index["cases"].GetArray()) {
    rapidjson::Document c;
    c.Parse(ReadFile(dir + "/" + entry["file"].GetString()).c_str());
    if (!c.IsObject() || !c.HasMember("credential")) continue;
    const auto& response = c["credential"]["response"];
    for (const char* name : {"attestationObject", "authenticatorData"}) {
      if (response.HasMember(name)) WriteSeed(out, &response[name]);
    }
    if (c.HasMember("credential_public_key_cose_b64url")) {
      WriteSeed(out, &c["credential_public_key_cose_b64url"]);
    }
  }
  std::printf("wrote %d seeds to %s\n", written, out.c_str());
  return written > 0 ? 0 : 1;
}
