// Which process this is among several serving the same store: SHIPGATE_REPLICA_ID when set (a
// Kubernetes pod name, say), else the host name. Shown in /api/v1/info and /metrics.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace shipgate {

// The id from `configured` (the environment variable's value, may be null) or the host name; nothing
// when `configured` is set but not 1 to 63 letters, digits, '.', '_' or '-' (a label value and a log
// word must stay plain).
std::optional<std::string> replica_id(const char* configured);

}  // namespace shipgate
