// Prometheus's answer to an instant query (deploy/prometheus_query.hpp). Input: the answer's body.
#include <cstdint>
#include <string>

#include "deploy/prometheus_query.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  for (const int status : {200, 401}) {
    const auto s = shipgate::deploy::read_prometheus_answer(status, body);
    // Either a usable answer or a reason; never a value without an answer.
    if (s.answered == !s.error.empty()) __builtin_trap();
    if (!s.answered && s.value) __builtin_trap();
  }
  return 0;
}
