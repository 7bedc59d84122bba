// A NoCloud seed (cloud-init's "CIDATA" disk): an ISO 9660 image labelled CIDATA holding
// meta-data, user-data and optionally network-config, made by Debian's genisoimage run without
// a shell (argv as is). Blocking; any thread.
#pragma once

#include <string>

#include "core/status.h"

namespace strato::hostd {

struct NoCloudSeed {
  std::string meta_data;       // YAML; see NoCloudMetaData
  std::string user_data;       // "#cloud-config ..." or a script ("#!..."); may be empty
  std::string network_config;  // empty: no network-config file
};

// "instance-id: <id>\nlocal-hostname: <hostname>\n", each value double-quoted (quotes and
// backslashes escaped, control characters dropped) so no value can add a key.
std::string NoCloudMetaData(const std::string& instance_id, const std::string& hostname);

// Writes the seed image to `out_path` (mode 0600), replacing it atomically. The files are put
// together in a private folder beside it, removed afterwards. kUnavailable when genisoimage
// cannot run (not installed: Debian's package genisoimage), kInternal when it fails, with its
// output.
Status MakeNoCloudSeed(const std::string& out_path, const NoCloudSeed& seed,
                       const std::string& genisoimage = "genisoimage");

}  // namespace strato::hostd
