#include "common/replica.hpp"

#include <unistd.h>

#include "common/text.hpp"

namespace shipgate {

std::optional<std::string> replica_id(const char* configured) {
  if (configured) {
    if (!is_plain_name(configured, 63)) return std::nullopt;
    return std::string(configured);
  }
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || !is_plain_name(host, 63)) return std::string("shipgate");
  return std::string(host);
}

}  // namespace shipgate
