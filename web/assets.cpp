// Each file is placed in the object file by the assembler's .incbin, as it is in web/: no generated
// source. CMake names the directory (SHIPGATE_WEB_DIR) and rebuilds this file when one of them changes.
#include "web/assets.hpp"

#include <array>

#define SHIPGATE_EMBED(symbol, file)                                         \
  asm(".section .rodata.shipgate_web,\"a\"\n"                                \
      ".global " #symbol "_begin\n.hidden " #symbol "_begin\n" #symbol "_begin:\n" \
      ".incbin \"" SHIPGATE_WEB_DIR "/" file "\"\n"                          \
      ".global " #symbol "_end\n.hidden " #symbol "_end\n" #symbol "_end:\n"       \
      ".previous\n");                                                        \
  extern "C" const char symbol##_begin[];                                    \
  extern "C" const char symbol##_end[];

SHIPGATE_EMBED(shipgate_web_index, "index.html")
SHIPGATE_EMBED(shipgate_web_style, "style.css")
SHIPGATE_EMBED(shipgate_web_app, "app.js")
SHIPGATE_EMBED(shipgate_web_api, "api.js")
SHIPGATE_EMBED(shipgate_web_dom, "dom.js")
SHIPGATE_EMBED(shipgate_web_board, "board.js")
SHIPGATE_EMBED(shipgate_web_deployment, "deployment.js")
SHIPGATE_EMBED(shipgate_web_audit, "audit.js")
SHIPGATE_EMBED(shipgate_web_insights, "insights.js")

namespace shipgate::web {

namespace {

constexpr std::string_view kJs = "text/javascript; charset=utf-8";

std::string_view bytes(const char* begin, const char* end) {
  return {begin, static_cast<std::size_t>(end - begin)};
}

const std::array<Asset, 9>& table() {
  static const std::array<Asset, 9> all{{
      {"index.html", "text/html; charset=utf-8", bytes(shipgate_web_index_begin, shipgate_web_index_end)},
      {"style.css", "text/css; charset=utf-8", bytes(shipgate_web_style_begin, shipgate_web_style_end)},
      {"app.js", kJs, bytes(shipgate_web_app_begin, shipgate_web_app_end)},
      {"api.js", kJs, bytes(shipgate_web_api_begin, shipgate_web_api_end)},
      {"dom.js", kJs, bytes(shipgate_web_dom_begin, shipgate_web_dom_end)},
      {"board.js", kJs, bytes(shipgate_web_board_begin, shipgate_web_board_end)},
      {"deployment.js", kJs, bytes(shipgate_web_deployment_begin, shipgate_web_deployment_end)},
      {"audit.js", kJs, bytes(shipgate_web_audit_begin, shipgate_web_audit_end)},
      {"insights.js", kJs, bytes(shipgate_web_insights_begin, shipgate_web_insights_end)},
  }};
  return all;
}

}  // namespace

std::span<const Asset> assets() { return table(); }

const Asset* find_asset(std::string_view name) {
  for (const auto& a : table())
    if (a.name == name) return &a;
  return nullptr;
}

const Asset& index_page() { return table()[0]; }

}  // namespace shipgate::web
