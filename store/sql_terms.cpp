#include "store/sql_terms.hpp"

#include "domain/deployment.hpp"

namespace shipgate::orchestration {

namespace {

std::string quoted(State s) { return "'" + std::string(to_string(s)) + "'"; }

}  // namespace

const std::string& unfinished_term() {
  static const std::string term = [] {
    std::string t;
    for (State s : all_states())
      if (!is_final(s)) t += (t.empty() ? "state IN (" : ", ") + quoted(s);
    return t + ")";
  }();
  return term;
}

const std::string& runnable_term() {
  static const std::string term = "state IN (" + quoted(State::running) + ", " + quoted(State::queued) + ")";
  return term;
}

const std::string& next_to_run_order() {
  static const std::string order = "state = " + quoted(State::running) + " DESC, priority DESC, id ASC";
  return order;
}

const std::string& current_version_term() {
  static const std::string term = "state = " + quoted(State::succeeded) + " ORDER BY finished_at DESC, id DESC";
  return term;
}

std::string names_version_term(std::string_view param) {
  const std::string p(param);
  return "(version = " + p + " OR sha = " + p + " OR (length(" + p + ") >= " + std::to_string(kMinShaPrefix) +
         " AND substr(sha, 1, length(" + p + ")) = " + p + "))";
}

}  // namespace shipgate::orchestration
