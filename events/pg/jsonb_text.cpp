#include "events/pg/jsonb_text.h"

#include <rapidjson/reader.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace strato::events {
namespace {

struct Node {
  enum class Kind { kScalar, kObject, kArray } kind = Kind::kScalar;
  std::string text;  // scalars: their rendered text
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> members;  // raw (decoded) keys
  std::vector<std::unique_ptr<Node>> items;
};

void AppendEscaped(std::string& out, const char* s, size_t n) {
  out.push_back('"');
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

// Builds a tree from SAX events; numbers arrive as their source text.
class Builder {
 public:
  bool unsure = false;
  std::unique_ptr<Node> root;

  bool Null() { return Scalar("null"); }
  bool Bool(bool b) { return Scalar(b ? "true" : "false"); }
  bool Int(int) { return false; }  // not called with kParseNumbersAsStringsFlag
  bool Uint(unsigned) { return false; }
  bool Int64(int64_t) { return false; }
  bool Uint64(uint64_t) { return false; }
  bool Double(double) { return false; }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    std::string_view t(s, n);
    if (t.find_first_of("eE") != std::string_view::npos) {
      unsure = true;  // numeric rescales exponents; let PostgreSQL say
      return false;
    }
    if (t[0] == '-' && t.find_first_not_of("-0.") == std::string_view::npos) {
      unsure = true;  // negative zero prints without its sign
      return false;
    }
    return Scalar(std::string(t));
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    std::string r;
    AppendEscaped(r, s, n);
    return Scalar(std::move(r));
  }
  bool StartObject() { return Open(Node::Kind::kObject); }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    pending_key_.assign(s, n);
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    stack_.pop_back();
    return true;
  }
  bool StartArray() { return Open(Node::Kind::kArray); }
  bool EndArray(rapidjson::SizeType) {
    stack_.pop_back();
    return true;
  }

 private:
  bool Attach(std::unique_ptr<Node> node) {
    Node* raw = node.get();
    if (stack_.empty()) {
      root = std::move(node);
    } else if (stack_.back()->kind == Node::Kind::kObject) {
      stack_.back()->members.emplace_back(std::move(pending_key_), std::move(node));
      pending_key_.clear();
    } else {
      stack_.back()->items.push_back(std::move(node));
    }
    if (raw->kind != Node::Kind::kScalar) stack_.push_back(raw);
    return true;
  }
  bool Scalar(std::string text) {
    auto n = std::make_unique<Node>();
    n->text = std::move(text);
    return Attach(std::move(n));
  }
  bool Open(Node::Kind kind) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    return Attach(std::move(n));
  }
  std::vector<Node*> stack_;
  std::string pending_key_;
};

void Render(Node& n, std::string& out) {
  switch (n.kind) {
    case Node::Kind::kScalar:
      out += n.text;
      return;
    case Node::Kind::kArray: {
      out.push_back('[');
      for (size_t i = 0; i < n.items.size(); ++i) {
        if (i) out += ", ";
        Render(*n.items[i], out);
      }
      out.push_back(']');
      return;
    }
    case Node::Kind::kObject: {
      auto& m = n.members;
      // Duplicate keys: the last one wins. A stable sort keeps input order among equal keys,
      // so the last of each run is the survivor.
      std::stable_sort(m.begin(), m.end(), [](const auto& a, const auto& b) {
        if (a.first.size() != b.first.size()) return a.first.size() < b.first.size();
        return a.first < b.first;
      });
      out.push_back('{');
      bool first = true;
      for (size_t i = 0; i < m.size(); ++i) {
        if (i + 1 < m.size() && m[i + 1].first == m[i].first) continue;
        if (!first) out += ", ";
        first = false;
        AppendEscaped(out, m[i].first.data(), m[i].first.size());
        out += ": ";
        Render(*m[i].second, out);
      }
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

std::optional<std::string> JsonbText(std::string_view json) {
  Builder b;
  rapidjson::Reader reader;
  rapidjson::MemoryStream ms(json.data(), json.size());
  rapidjson::ParseResult ok =
      reader.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag>(
          ms, b);
  if (!ok || b.unsure || !b.root || b.root->kind != Node::Kind::kObject) return std::nullopt;
  std::string out;
  out.reserve(json.size() + json.size() / 8);
  Render(*b.root, out);
  return out;
}

}  // namespace strato::events
