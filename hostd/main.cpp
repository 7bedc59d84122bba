// strato-hostd: the host daemon. Reads its configuration from the environment (hostd/config.h),
// then runs the daemon (hostd/daemon.h) until SIGTERM. Bad configuration stops it with a
// sentence naming the variable (exit status 2).
#include <cstdio>

#include "core/config.h"
#include "hostd/config.h"
#include "hostd/daemon.h"
#include "hostd/hypervisor/ch_driver.h"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "strato-hostd — the Strato host daemon\n\n"
          "environment: NATS_URL, STRATO_STATE_DIR, STRATO_HOST_ID (or STRATO_HOST_NAME),\n"
          "  STRATO_CH_BINARY, STRATO_HOST_CPUS, STRATO_HOST_MEMORY_MB, STRATO_HOST_DISK_GB,\n"
          "  STRATO_HOST_ADDRESS, STRATO_VM_KERNEL, STRATO_VM_CMDLINE,\n"
          "  STRATO_HEARTBEAT_INTERVAL_MS, STRATO_RESYNC_INTERVAL_MS, "
          "STRATO_STOP_TIMEOUT_SECONDS,\n"
          "  STRATO_NATS_USER, STRATO_NATS_PASSWORD\n");
      return 0;
    }
    std::fprintf(stderr, "strato-hostd: unknown argument \"%s\" (see --help)\n", argv[i]);
    return 2;
  }
  strato::ProcessEnv env;
  auto config = strato::hostd::ReadHostdConfig(env);
  if (!config.ok()) {
    std::fprintf(stderr, "strato-hostd: %s\n", config.status().message().c_str());
    return 2;
  }
  strato::hostd::CloudHypervisorOptions options;
  options.binary = config->ch_binary;
  strato::hostd::CloudHypervisorDriver driver(options);
  strato::Status s = strato::hostd::RunDaemon(*config, driver);
  if (!s.ok()) {
    std::fprintf(stderr, "strato-hostd: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
