#include "core/log.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <cstdio>
#include <mutex>

#include "core/clock.h"

namespace strato::log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
std::mutex g_mu;

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void SetMinLevel(Level level) {
  g_min_level = static_cast<int>(level);
}

std::string Format(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  std::string ts = FormatRfc3339(SystemClock::Instance().Now());
  w.Key("ts");
  w.String(ts.data(), static_cast<rapidjson::SizeType>(ts.size()));
  w.Key("level");
  w.String(LevelName(level));
  w.Key("msg");
  w.String(msg.data(), static_cast<rapidjson::SizeType>(msg.size()));
  for (const Field& f : fields) {
    w.Key(f.key.data(), static_cast<rapidjson::SizeType>(f.key.size()));
    if (auto* s = std::get_if<std::string>(&f.value)) {
      w.String(s->data(), static_cast<rapidjson::SizeType>(s->size()));
    } else if (auto* i = std::get_if<int64_t>(&f.value)) {
      w.Int64(*i);
    } else if (auto* d = std::get_if<double>(&f.value)) {
      w.Double(*d);
    } else {
      w.Bool(std::get<bool>(f.value));
    }
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (static_cast<int>(level) < g_min_level.load()) return;
  std::string line = Format(level, msg, fields);
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace strato::log
