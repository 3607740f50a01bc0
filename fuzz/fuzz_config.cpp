// The YAML config loader and validator: any bytes either load or produce errors with paths; nothing
// crashes, leaks or hangs. ${VAR} lookups answer for a few names so substitution runs too.
#include <cstdint>
#include <string>

#include "config/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SECRET") return std::string("s3cret-value");
    if (name == "EMPTY") return std::string();
    return std::nullopt;
  };
  auto result = shipgate::config::load_config_text(text, env);
  // Either a config or errors, never both, never neither.
  if ((result.config != nullptr) == !result.errors.empty()) __builtin_trap();
  for (const auto& e : result.errors)
    if (e.message.empty()) __builtin_trap();
  return 0;
}
