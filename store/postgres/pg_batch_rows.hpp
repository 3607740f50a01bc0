// The rows a batch of webhooks writes (pg_ingest_batch.cpp), collected as the rules decide them, in the
// order ingest() would have written them: JSON arrays, one per table, each written by one statement.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "domain/ingest_plan.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

using Lane = std::pair<std::string, std::string>;

// The rows a batch writes, in the order ingest() would have written them.
struct Rows {
  nlohmann::json marks = nlohmann::json::array();
  nlohmann::json deployments = nlohmann::json::array();
  nlohmann::json supersede = nlohmann::json::array();
  nlohmann::json history = nlohmann::json::array();
  nlohmann::json audit = nlohmann::json::array();
  nlohmann::json events = nlohmann::json::array();
  std::map<std::tuple<std::string, std::string, std::string>, int> finals;
  std::set<std::string> wake;
  nlohmann::json answers = nlohmann::json::array();
  std::size_t superseding = 0;
};

// Collects the rows of a batch as the rules decide them.
class RowWriter {
 public:
  RowWriter(std::int64_t now, bool record_events) : now_(now), record_events_(record_events) {}

  // A transition (or a creation, `from` empty): its history and audit rows, a final count, an event,
  // and a wake for its lane when it queues.
  void history(std::int64_t id, const Lane& lane, std::optional<State> from, State to, const std::string& actor,
               const std::string& reason, Trigger trigger);
  void audit(const AuditEntry& e);
  void mark(const BadVersion& mark);
  // A new deployment with its history, its override event and the deployments it supersedes.
  void insert(std::int64_t id, const NewDeployment& nd, const IngestPlan& plan, const std::string& delivery_key);
  void answer(const std::string& key, const StoredResponse& response);

  Rows rows;

 private:
  std::int64_t now_;
  bool record_events_;
};

}  // namespace shipgate::orchestration
