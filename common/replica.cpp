#include "common/replica.hpp"

#include <unistd.h>

#include <cctype>

namespace shipgate {

namespace {

bool plain(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

}  // namespace

std::optional<std::string> replica_id(const char* configured) {
  if (configured) {
    if (!plain(configured)) return std::nullopt;
    return std::string(configured);
  }
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || !plain(host)) return std::string("shipgate");
  return std::string(host);
}

}  // namespace shipgate
