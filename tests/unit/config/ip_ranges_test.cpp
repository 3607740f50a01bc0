// server.trusted_proxies: addresses and ranges, and the client X-Forwarded-For names behind them.
#include "config/ip_ranges.hpp"

#include <gtest/gtest.h>

using shipgate::config::client_address;
using shipgate::config::IpRanges;

TEST(IpRanges, AddressesAndCidrRangesOfBothFamilies) {
  const auto ranges = IpRanges::parse({"127.0.0.1", "10.0.0.0/8", "192.168.1.128/25", "fd00::/8", "::1"});
  ASSERT_TRUE(ranges);
  for (const char* inside : {"127.0.0.1", "10.1.2.3", "192.168.1.200", "fd12::1", "::1", "[::1]"})
    EXPECT_TRUE(ranges->contains(inside)) << inside;
  for (const char* outside : {"127.0.0.2", "11.0.0.1", "192.168.1.127", "fe80::1", "", "not-an-address", "10.0.0.0/8"})
    EXPECT_FALSE(ranges->contains(outside)) << outside;
  std::string bad;
  for (const char* wrong : {"10.0.0.0/33", "10.0.0.0/", "host.example", "::1/129", "1.2.3.4/8x"}) {
    EXPECT_FALSE(IpRanges::parse({"127.0.0.1", wrong}, &bad)) << wrong;
    EXPECT_EQ(bad, wrong);
  }
}

TEST(IpRanges, TheClientIsTheNearestForwardedAddressThatIsNoTrustedProxy) {
  const auto trusted = *IpRanges::parse({"127.0.0.1", "10.0.0.0/8"});
  const struct {
    const char* peer;
    const char* forwarded;
    const char* client;
  } cases[] = {
      {"127.0.0.1", "203.0.113.7", "203.0.113.7"},
      {"127.0.0.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"},     // the left one is the client's own claim
      {"127.0.0.1", "203.0.113.7, 10.0.0.5", "203.0.113.7"},         // through two proxies of ours
      {"127.0.0.1", "10.0.0.9, 10.0.0.5", "10.0.0.9"},               // proxies all the way: the leftmost
      {"127.0.0.1", "", "127.0.0.1"},
      {"127.0.0.1", "garbage, 203.0.113.7", "203.0.113.7"},
      {"127.0.0.1", "203.0.113.7, garbage", "127.0.0.1"},            // not an address: nothing left of it is believed
      {"203.0.113.9", "198.51.100.1", "203.0.113.9"},                // not a trusted proxy: X-Forwarded-For ignored
  };
  for (const auto& c : cases) EXPECT_EQ(client_address(c.peer, c.forwarded, trusted), c.client) << c.peer << " / " << c.forwarded;
  EXPECT_EQ(client_address("127.0.0.1", "203.0.113.7", IpRanges()), "127.0.0.1") << "nothing trusted";
}
