// Free loopback ports for servers the tests start that must be told their port up front.
#pragma once
#include <cstdint>

namespace shipgate::testing {

// A port nothing listens on right now (bound and released; a server started on it soon after gets it
// unless another process races for it, which is why the callers retry on another port).
std::uint16_t free_loopback_port();

}  // namespace shipgate::testing
