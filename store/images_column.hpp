// How both stores keep a deployment's images in one column: a JSON object of component -> reference.
#pragma once
#include <map>
#include <string>

namespace shipgate::orchestration {

// The column's text back into the map; entries that are not strings (or text that is not an object)
// are left out.
std::map<std::string, std::string> parse_images(const std::string& text);

}  // namespace shipgate::orchestration
