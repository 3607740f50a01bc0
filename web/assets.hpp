// The reviewer page's files (HTML, CSS, JavaScript modules), compiled into the binary so the daemon
// stays one file and the page needs no network.
#pragma once
#include <span>
#include <string_view>

namespace shipgate::web {

struct Asset {
  std::string_view name;          // as under /assets/, e.g. "app.js"
  std::string_view content_type;
  std::string_view bytes;
};

std::span<const Asset> assets();
const Asset* find_asset(std::string_view name);  // null when there is none of that name
const Asset& index_page();

}  // namespace shipgate::web
