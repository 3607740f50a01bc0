#include "store/images_column.hpp"

#include <nlohmann/json.hpp>

namespace shipgate::orchestration {

std::map<std::string, std::string> parse_images(const std::string& text) {
  std::map<std::string, std::string> out;
  const auto images = nlohmann::json::parse(text, nullptr, false);
  if (images.is_object())
    for (const auto& [component, ref] : images.items())
      if (ref.is_string()) out[component] = ref.get<std::string>();
  return out;
}

}  // namespace shipgate::orchestration
