#include "common/text.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

namespace shipgate {

bool glob_match(std::string_view p, std::string_view t) {
  // Iterative matcher with backtracking to the last star; '**' may cross '/'.
  std::size_t pi = 0, ti = 0;
  std::size_t star_p = std::string_view::npos, star_t = 0;
  bool star_crosses = false;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star_crosses = pi + 1 < p.size() && p[pi + 1] == '*';
      pi += star_crosses ? 2 : 1;
      if (star_crosses && pi < p.size() && p[pi] == '/') {
        // "a/**/b" also matches "a/b": try matching the rest with the slash skipped first.
        if (glob_match(p.substr(pi + 1), t.substr(ti))) return true;
      }
      star_p = pi;
      star_t = ti;
      continue;
    }
    if (pi < p.size() && (p[pi] == '?' ? t[ti] != '/' : p[pi] == t[ti])) {
      ++pi;
      ++ti;
      continue;
    }
    if (star_p != std::string_view::npos && (star_crosses || t[star_t] != '/')) {
      pi = star_p;
      ti = ++star_t;
      continue;
    }
    return false;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string percent_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (const unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool form_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;  // needs two hex digits after '%'
      const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return true;
}

bool form_field(std::string_view body, std::string_view name, std::string& value) {
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t end = body.find('&', pos);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view pair = body.substr(pos, end - pos);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name)
      return form_decode(pair.substr(eq + 1), value);
    pos = end + 1;
  }
  return false;
}

bool is_hex(std::string_view s) {
  for (char c : s)
    if (hex_value(c) < 0) return false;
  return !s.empty();
}

bool is_plain_text(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

std::optional<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string url_origin(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "(url)";
  const auto authority_start = scheme_end + 3;
  auto authority_end = url.find_first_of("/?#", authority_start);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  auto authority = url.substr(authority_start, authority_end - authority_start);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string out = std::string(url.substr(0, authority_start)) + std::string(authority);
  if (authority_end < url.size() && url.substr(authority_end) != "/") out += "/...";
  return out;
}

bool is_token(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

std::string escape_control(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) {
      out.push_back(c);
      continue;
    }
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static constexpr char digits[] = "0123456789abcdef";
        out += "\\x";
        out.push_back(digits[u >> 4]);
        out.push_back(digits[u & 0xf]);
      }
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_plain_name(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

}  // namespace shipgate
