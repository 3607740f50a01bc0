#include "tests/support/hostile_json.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace shipgate::testing {

namespace {

using nlohmann::json;

std::vector<std::pair<std::string, json>> wrong_shapes() {
  return {{"null", nullptr},
          {"array", json::array({1, "two"})},
          {"empty array", json::array()},
          {"object", json::object({{"unexpected", true}})},
          {"integer", -1},
          {"huge integer", 18446744073709551615ull},
          {"fraction", 1.5},
          {"boolean", true},
          {"empty string", ""},
          {"1 MiB string", std::string(1u << 20, 'x')}};
}

// Every place in `doc` as a JSON pointer, the root excepted.
void collect(const json& doc, const json::json_pointer& at, std::vector<json::json_pointer>& out) {
  if (doc.is_object()) {
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      const auto child = at / it.key();
      out.push_back(child);
      collect(*it, child, out);
    }
  } else if (doc.is_array()) {
    for (std::size_t i = 0; i < doc.size(); ++i) {
      const auto child = at / i;
      out.push_back(child);
      collect(doc[i], child, out);
    }
  }
}

}  // namespace

std::vector<HostileAnswer> hostile_answers(const std::string& valid_json) {
  const json sample = json::parse(valid_json);  // a test's own sample: throwing here is the test's failure
  std::vector<HostileAnswer> out;
  std::vector<json::json_pointer> places;
  collect(sample, json::json_pointer(), places);
  for (const auto& place : places)
    for (const auto& [name, shape] : wrong_shapes()) {
      json variant = sample;
      variant[place] = shape;
      out.push_back({place.to_string() + ": " + name, variant.dump()});
    }
  for (const auto& [name, shape] : wrong_shapes()) out.push_back({"the whole answer: " + name, shape.dump()});
  out.push_back({"empty body", ""});
  out.push_back({"not JSON", "<html><body>502 Bad Gateway</body></html>"});
  const std::string text = sample.dump();
  for (const std::size_t cut : {std::size_t{1}, text.size() / 4, text.size() / 2, text.size() - 1})
    out.push_back({"cut at " + std::to_string(cut), text.substr(0, cut)});
  return out;
}

}  // namespace shipgate::testing
