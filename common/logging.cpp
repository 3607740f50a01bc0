#include "common/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include <nlohmann/json.hpp>

#include "common/text.hpp"
#include "common/time_format.hpp"

namespace shipgate {

namespace {

thread_local const LogFields* current_fields = nullptr;

const LogFields& fields_of_this_line() {
  static const LogFields none;
  return current_fields ? *current_fields : none;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line = json_log_line(format_rfc3339_ms(ms), std::string(level.data(), level.size()),
                                           std::string(msg.payload.data(), msg.payload.size()), fields_of_this_line());
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

// The text format, with control characters in the message escaped: a value from a request (a header, a
// version) can never forge a second log line.
class TextFormatter final : public spdlog::formatter {
 public:
  TextFormatter() : inner_(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v")) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const auto& fields = fields_of_this_line();
    bool clean = fields.request_id.empty();
    for (char c : payload) clean = clean && static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
    if (clean) return inner_->format(msg, dest);
    std::string text;
    if (!fields.request_id.empty()) text = "[" + std::string(fields.request_id) + "] ";
    text += payload;
    const std::string escaped = escape_control(text);
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(escaped.data(), escaped.size());
    inner_->format(copy, dest);
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<TextFormatter>(); }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
};

}  // namespace

namespace detail {
LogFieldsScope::LogFieldsScope(const LogFields& fields) : previous_(current_fields) { current_fields = &fields; }
LogFieldsScope::~LogFieldsScope() { current_fields = previous_; }
}  // namespace detail

std::string text_log_line(const std::string& message, const LogFields& fields) {
  detail::LogFieldsScope scope(fields);
  TextFormatter f;
  spdlog::details::log_msg msg(spdlog::source_loc{}, "", spdlog::level::info,
                               spdlog::string_view_t(message.data(), message.size()));
  spdlog::memory_buf_t buf;
  f.format(msg, buf);
  return std::string(buf.data(), buf.size());
}

std::string json_log_line(const std::string& time, const std::string& level, const std::string& message,
                          const LogFields& fields) {
  nlohmann::json j = {{"time", time}, {"level", level}};
  if (!fields.request_id.empty()) j["request_id"] = fields.request_id;
  if (fields.deployment > 0) j["deployment"] = fields.deployment;
  j["msg"] = message;
  // Invalid UTF-8 from a request (a header, a path) is replaced rather than breaking the line.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void configure_logging(bool json, const std::string& level) {
  if (json) spdlog::set_formatter(std::make_unique<JsonFormatter>());
  else spdlog::set_formatter(std::make_unique<TextFormatter>());
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace shipgate
