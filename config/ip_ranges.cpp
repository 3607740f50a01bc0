#include "config/ip_ranges.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace shipgate::config {

namespace {

// The address's bytes (4 or 16), or false when it is not one. "[::1]" is read as "::1".
bool address_bytes(std::string_view text, unsigned char (&out)[16], bool& v6) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() > 45) return false;
  const std::string s(text);
  v6 = s.find(':') != std::string::npos;
  return inet_pton(v6 ? AF_INET6 : AF_INET, s.c_str(), out) == 1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<IpRanges> IpRanges::parse(const std::vector<std::string>& entries, std::string* bad_entry) {
  IpRanges out;
  for (const auto& entry : entries) {
    Range r;
    const auto slash = entry.find('/');
    const std::string_view address = std::string_view(entry).substr(0, slash);
    bool ok = address_bytes(address, r.bytes, r.v6);
    const int bits = r.v6 ? 128 : 32;
    r.prefix = bits;
    if (ok && slash != std::string::npos) {
      const std::string_view p = std::string_view(entry).substr(slash + 1);
      const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), r.prefix);
      ok = ec == std::errc() && end == p.data() + p.size() && !p.empty() && r.prefix >= 0 && r.prefix <= bits;
    }
    if (!ok) {
      if (bad_entry) *bad_entry = entry;
      return std::nullopt;
    }
    out.ranges_.push_back(r);
  }
  return out;
}

bool IpRanges::contains(std::string_view address) const {
  unsigned char bytes[16] = {};
  bool v6 = false;
  if (!address_bytes(trim(address), bytes, v6)) return false;
  for (const auto& r : ranges_) {
    if (r.v6 != v6) continue;
    const int whole = r.prefix / 8, rest = r.prefix % 8;
    if (std::memcmp(bytes, r.bytes, whole) != 0) continue;
    if (rest && ((bytes[whole] ^ r.bytes[whole]) & (0xff << (8 - rest)) & 0xff)) continue;
    return true;
  }
  return false;
}

std::string client_address(std::string_view peer, std::string_view forwarded_for, const IpRanges& trusted) {
  if (trusted.empty() || forwarded_for.empty() || !trusted.contains(peer)) return std::string(peer);
  std::string client(peer);
  while (!forwarded_for.empty()) {
    const auto comma = forwarded_for.rfind(',');
    const auto hop = trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for = comma == std::string_view::npos ? std::string_view() : forwarded_for.substr(0, comma);
    unsigned char bytes[16];
    bool v6 = false;
    if (!address_bytes(hop, bytes, v6)) break;  // not an address: trust nothing further left
    client = std::string(hop);
    if (!trusted.contains(hop)) break;
  }
  return client;
}

}  // namespace shipgate::config
