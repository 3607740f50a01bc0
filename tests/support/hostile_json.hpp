// Hostile variants of a valid answer from outside, for tables that drive the code reading it: every
// member and element of the sample replaced in turn by each wrong shape (null, an array, an object, a
// number, a boolean, an empty string, a 1 MiB string), the whole answer replaced by other JSON values,
// and the sample's text cut short at several places.
#pragma once
#include <string>
#include <vector>

namespace shipgate::testing {

struct HostileAnswer {
  std::string what;  // where it differs from the sample ("/data/result/0/value: null", "cut at 57")
  std::string body;
};

std::vector<HostileAnswer> hostile_answers(const std::string& valid_json);

}  // namespace shipgate::testing
