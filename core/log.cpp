#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "core/clock.h"
#include "core/json_writer.h"

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
  JsonWriter w;
  w.BeginObject()
      .Str("ts", FormatRfc3339(SystemClock::Instance().Now()))
      .Str("level", LevelName(level))
      .Str("msg", msg);
  for (const Field& f : fields) {
    w.Key(f.key);
    if (auto* s = std::get_if<std::string>(&f.value)) {
      w.String(*s);
    } else if (auto* i = std::get_if<int64_t>(&f.value)) {
      w.Int(*i);
    } else if (auto* d = std::get_if<double>(&f.value)) {
      w.Double(*d);
    } else {
      w.Bool(std::get<bool>(f.value));
    }
  }
  w.EndObject();
  return w.Text();
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
