// Log output for the daemon: human text or one JSON object per line, both through spdlog.
#pragma once
#include <string>

namespace shipgate {

// Installs the formatter and level on spdlog's default logger. `level`: debug, info, warn or error.
void configure_logging(bool json, const std::string& level);

// One JSON line for a message: {"time", "level", "msg", and "request_id" / "deployment" when the message
// starts with "[<request id>]" or mentions "deployment <id>"}. Exposed for tests.
std::string json_log_line(const std::string& time, const std::string& level, const std::string& message);

// One text line for a message at level info, as the text format writes it (control characters escaped).
// Exposed for tests.
std::string text_log_line(const std::string& message);

}  // namespace shipgate
