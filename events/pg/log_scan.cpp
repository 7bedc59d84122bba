#include "events/pg/log_scan.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "core/clock.h"

namespace strato::events {

namespace {

// data::text: the payload as jsonb prints it (a text column is sent as its bytes; a jsonb one
// would carry a version byte first).
constexpr const char* kScanSql =
    "COPY (SELECT global_position, stream_id, stream_version, type, data::text, recorded_at "
    "FROM events ORDER BY global_position) TO STDOUT (FORMAT binary)";
constexpr int16_t kColumns = 6;

// recorded_at bounds, in PostgreSQL's microseconds: within the years 1678 to 2261, which a
// nanosecond TimePoint holds (the log's times are far inside).
constexpr int64_t kMaxRecorded = 9'000'000'000'000'000 - kPgEpochUnixMicros;
constexpr int64_t kMinRecorded = -9'000'000'000'000'000 - kPgEpochUnixMicros;

// "PGCOPY\n\377\r\n\0": the binary format's signature, then 32-bit flags and the length of an
// extension area (PostgreSQL's COPY documentation, "Binary Format").
constexpr char kSignature[] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};

// Big-endian fields of one COPY message, read front to back.
class Fields {
 public:
  explicit Fields(std::string_view bytes) : rest_(bytes) {}
  bool empty() const { return rest_.empty(); }

  bool Skip(size_t n) {
    if (rest_.size() < n) return false;
    rest_.remove_prefix(n);
    return true;
  }
  bool Int(int n, int64_t* out) {
    if (rest_.size() < static_cast<size_t>(n)) return false;
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(rest_[i]);
    rest_.remove_prefix(static_cast<size_t>(n));
    // Sign-extend values narrower than 64 bits.
    if (n < 8 && (v >> (8 * n - 1)) != 0) v |= ~uint64_t{0} << (8 * n);
    *out = static_cast<int64_t>(v);
    return true;
  }
  // One column: its bytes, or *null = true for SQL NULL.
  bool Column(std::string_view* out, bool* null) {
    int64_t len = 0;
    if (!Int(4, &len)) return false;
    *null = len == -1;
    if (*null) return true;
    if (len < 0) return false;
    if (rest_.size() < static_cast<size_t>(len)) return false;
    *out = rest_.substr(0, static_cast<size_t>(len));
    rest_.remove_prefix(static_cast<size_t>(len));
    return true;
  }
  bool Int64Column(int64_t* out) {
    std::string_view v;
    bool null = false;
    if (!Column(&v, &null) || null || v.size() != 8) return false;
    Fields f(v);
    return f.Int(8, out);
  }

 private:
  std::string_view rest_;
};

}  // namespace

Status ScanLog(PgConnection& c, const std::function<Status(const RecordedEvent&)>& each) {
  RecordedEvent e;
  bool header_seen = false, ended = false;
  Status refused;  // what `each` failed with
  auto broken = [&](const std::string& what) {
    return Status::Internal("the COPY row after position " + std::to_string(e.position) + " " +
                            what);
  };
  Status scanned = c.CopyOut(kScanSql, [&](std::string_view message) -> Status {
    Fields f(message);
    if (!header_seen) {
      int64_t flags = 0, extension = 0;
      if (message.size() < sizeof kSignature ||
          std::memcmp(message.data(), kSignature, sizeof kSignature) != 0 ||
          !f.Skip(sizeof kSignature) || !f.Int(4, &flags) || !f.Int(4, &extension) ||
          extension < 0 || !f.Skip(static_cast<size_t>(extension))) {
        return broken("has no binary COPY header");
      }
      if (flags != 0) return broken("comes with header flags " + std::to_string(flags));
      header_seen = true;
    }
    while (!f.empty()) {
      if (ended) return broken("follows the end of the COPY");
      int64_t columns = 0;
      if (!f.Int(2, &columns)) return broken("is cut short");
      if (columns == -1) {
        ended = true;
        continue;
      }
      if (columns != kColumns) return broken("has " + std::to_string(columns) + " columns");
      std::string_view stream, type, data;
      bool stream_null = false, type_null = false, data_null = false;
      int64_t position = 0, version = 0, recorded = 0;
      if (!f.Int64Column(&position) || !f.Column(&stream, &stream_null) ||
          !f.Int64Column(&version) || !f.Column(&type, &type_null) ||
          !f.Column(&data, &data_null) || !f.Int64Column(&recorded)) {
        return broken("is cut short");
      }
      if (stream_null || type_null || data_null) return broken("has a NULL");
      // A finite time a TimePoint holds (not PostgreSQL's infinity).
      if (recorded <= kMinRecorded || recorded >= kMaxRecorded) {
        return broken("has a time out of range");
      }
      e.position = position;
      e.stream_version = version;
      e.stream_id.assign(stream);
      e.type.assign(type);
      e.data.assign(data);
      e.recorded_at = FromUnixMicros(recorded + kPgEpochUnixMicros);
      refused = each(e);
      if (!refused.ok()) return refused;
    }
    return Status::Ok();
  });
  if (!refused.ok()) return refused;  // as `each` said it
  STRATO_RETURN_IF_ERROR(scanned.WithContext("reading the log"));
  if (!ended) {
    return broken("is missing: the COPY ended without its trailer").WithContext("reading the log");
  }
  return Status::Ok();
}

}  // namespace strato::events
