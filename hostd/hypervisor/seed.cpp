#include "hostd/hypervisor/seed.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "hostd/hypervisor/subprocess.h"

namespace strato::hostd {
namespace {

std::string Quoted(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) continue;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << text;
  out.close();
  if (!out) return Status::Internal("cannot write " + path);
  return Status::Ok();
}

}  // namespace

std::string NoCloudMetaData(const std::string& instance_id, const std::string& hostname) {
  return "instance-id: " + Quoted(instance_id) + "\nlocal-hostname: " + Quoted(hostname) + "\n";
}

Status MakeNoCloudSeed(const std::string& out_path, const NoCloudSeed& seed,
                       const std::string& genisoimage) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string dir = out_path + ".files";
  const std::string tmp = out_path + ".tmp";
  fs::remove_all(dir, ec);
  fs::create_directory(dir, ec);
  if (ec) return Status::Internal("cannot make the seed folder " + dir + ": " + ec.message());
  chmod(dir.c_str(), 0700);
  struct Cleanup {
    std::string dir, tmp;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
      fs::remove(tmp, e);
    }
  } cleanup{dir, tmp};
  std::vector<std::string> argv = {genisoimage, "-quiet", "-output", tmp,
                                   "-volid",    "CIDATA", "-joliet", "-rock"};
  STRATO_RETURN_IF_ERROR(WriteFile(dir + "/meta-data", seed.meta_data));
  STRATO_RETURN_IF_ERROR(WriteFile(dir + "/user-data", seed.user_data));
  argv.push_back(dir + "/meta-data");
  argv.push_back(dir + "/user-data");
  if (!seed.network_config.empty()) {
    STRATO_RETURN_IF_ERROR(WriteFile(dir + "/network-config", seed.network_config));
    argv.push_back(dir + "/network-config");
  }
  auto out = RunCommand(argv, std::chrono::seconds(30));
  if (!out.ok()) {
    return Status::Unavailable("cannot make the NoCloud seed " + out_path + ": " +
                               out.status().message() + " (Debian's package genisoimage)");
  }
  if (out->timed_out || out->exit_status != 0) {
    return Status::Internal(
        "genisoimage could not make the NoCloud seed " + out_path + ": " +
        (out->timed_out ? std::string("it took longer than 30 s") : out->output.substr(0, 500)));
  }
  chmod(tmp.c_str(), 0600);
  if (std::rename(tmp.c_str(), out_path.c_str()) != 0) {
    return Status::Internal("cannot move the NoCloud seed into place at " + out_path);
  }
  return Status::Ok();
}

}  // namespace strato::hostd
