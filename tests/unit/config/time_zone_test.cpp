// RFC 3339 instants as the config and the API accept them.
#include <gtest/gtest.h>

#include "config/time_zone.hpp"

using namespace shipgate;

TEST(Rfc3339, AcceptsExactlyOneInstantPerValue) {
  using config::parse_rfc3339;
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00Z"), 1'795'694'400'000);
  EXPECT_EQ(parse_rfc3339("2026-11-26T13:00:00+01:00"), 1'795'694'400'000);
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00.250Z"), 1'795'694'400'250);
  // Found by fuzzing: a control character inside made the library read NaN seconds.
  for (const char* bad : {"2027-01-05T\x7f" "00:00:00Z", "2026-11-26T12:00Z", "2026-11-26 12:00:00Z", "nan",
                          "2026-11-26T12:00:00", "2026-11-26T12:00:00.Z", "2026-11-26T12:00:00+0100", "",
                          // Offsets beyond 23:59 name no time zone.
                          "2026-11-26T12:00:00+99:99", "2026-11-26T12:00:00-24:00", "2026-11-26T12:00:00+01:60"})
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
  EXPECT_EQ(parse_rfc3339("2026-11-26T23:59:00+23:59"), 1'795'651'200'000);
}
