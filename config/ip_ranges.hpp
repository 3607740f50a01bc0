// Addresses and CIDR ranges ("127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"), as server.trusted_proxies
// lists them, and the client a request comes from when it passed through such proxies.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shipgate::config {

class IpRanges {
 public:
  // None when an entry is not an address or a CIDR range (the loader reports which).
  static std::optional<IpRanges> parse(const std::vector<std::string>& entries, std::string* bad_entry = nullptr);
  bool contains(std::string_view address) const;
  bool empty() const { return ranges_.empty(); }

 private:
  struct Range {
    bool v6 = false;
    unsigned char bytes[16] = {};
    int prefix = 0;  // leading bits that must match
  };
  std::vector<Range> ranges_;
};

// The address a request comes from: the TCP peer, unless the peer is a trusted proxy; then, walking
// X-Forwarded-For from the right, the first address that is not a trusted proxy (the leftmost one when
// every address is). An entry that is not an address ends the walk at the address before it.
std::string client_address(std::string_view peer, std::string_view forwarded_for, const IpRanges& trusted);

}  // namespace shipgate::config
