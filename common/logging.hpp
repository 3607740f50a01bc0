// Log output for the daemon: human text or one JSON object per line, both through spdlog.
#pragma once
#include <spdlog/spdlog.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace shipgate {

// What a log line is about, besides its message: in the JSON format each is a key of its own (never read
// back out of the text); the text format shows the request id as a "[id] " prefix.
struct LogFields {
  std::string_view request_id;
  std::int64_t deployment = 0;
};

namespace detail {
// The fields of the line being written on this thread (spdlog formats synchronously, on the caller's
// thread, so they are set only for the duration of the one call).
class LogFieldsScope {
 public:
  explicit LogFieldsScope(const LogFields& fields);
  ~LogFieldsScope();
  LogFieldsScope(const LogFieldsScope&) = delete;
  LogFieldsScope& operator=(const LogFieldsScope&) = delete;

 private:
  const LogFields* previous_;
};
}  // namespace detail

// spdlog::log with fields: log_with(spdlog::level::info, {.deployment = id}, "deployment {}: started", id).
template <typename... Args>
void log_with(spdlog::level::level_enum level, const LogFields& fields, fmt::format_string<Args...> format, Args&&... args) {
  if (!spdlog::should_log(level)) return;
  detail::LogFieldsScope scope(fields);
  spdlog::log(level, format, std::forward<Args>(args)...);
}

// Installs the formatter and level on spdlog's default logger. `level`: debug, info, warn or error.
void configure_logging(bool json, const std::string& level);

// One JSON line: {"time", "level", "msg"} and the fields that are set. Exposed for tests.
std::string json_log_line(const std::string& time, const std::string& level, const std::string& message,
                          const LogFields& fields = {});

// One text line for a message at level info, as the text format writes it (control characters escaped,
// the request id as a prefix). Exposed for tests.
std::string text_log_line(const std::string& message, const LogFields& fields = {});

}  // namespace shipgate
