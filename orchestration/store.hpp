// Durable state behind an interface: SQLite today, PostgreSQL later for several replicas.
//
// Writes complete only once committed and synced to disk, so a caller may answer 2xx right after.
// Writes are awaitable from any executor; the completion resumes the caller on its own executor.
// Reads are synchronous and short (indexed), callable from any thread.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestration/deployment.hpp"
#include "orchestration/state_machine.hpp"

namespace shipgate::orchestration {

template <class T>
using Result = boost::system::result<T>;

enum class StoreErrc { overloaded = 1, io_error, not_found, closed, in_use };
const boost::system::error_category& store_category();
inline boost::system::error_code make_error_code(StoreErrc e) { return {static_cast<int>(e), store_category()}; }

struct StoredResponse {
  int status = 200;
  std::string body;
};

struct IngestedDeployment {
  std::int64_t id = 0;
  std::string project;
  std::string environment;
  State state = State::queued;
  std::string version;
  bool reused = false;  // an unfinished deployment of the same version already existed
  std::vector<std::int64_t> superseded;
};

struct IngestRequest {
  std::string delivery_key;  // "github:<X-GitHub-Delivery>" or "build:<project>:<Idempotency-Key>"
  std::string source;        // e.g. "github push acme/app"
  std::vector<NewDeployment> deployments;
  // Builds the answer from what was created; it is stored so a redelivery gets the same answer.
  std::function<StoredResponse(const std::vector<IngestedDeployment>&)> respond;
};

struct IngestResult {
  bool duplicate = false;
  StoredResponse response;
  std::vector<IngestedDeployment> deployments;  // empty for a duplicate
};

struct TransitionRequest {
  std::int64_t id = 0;
  Event event = Event::start;
  std::string actor = "shipgate";
  std::string reason;
  std::optional<nlohmann::json> result;  // replaces the stored result when set
};

// Applied: the deployment moved (or recorded the note). Refused: its state did not allow the event.
struct TransitionOutcome {
  bool applied = false;
  State state = State::queued;  // the state after the call
};

struct DeploymentFilter {
  std::string project;
  std::string environment;
  std::vector<State> states;
  int limit = 50;
  std::int64_t before_id = 0;  // paging: only ids below this
};

class Store {
 public:
  virtual ~Store() = default;

  virtual boost::asio::awaitable<Result<IngestResult>> ingest(IngestRequest request) = 0;
  virtual boost::asio::awaitable<Result<TransitionOutcome>> transition(TransitionRequest request) = 0;
  // Replaces the stored result (progress of a running deployment) without a state change.
  virtual boost::asio::awaitable<Result<void>> record_result(std::int64_t id, nlohmann::json result) = 0;

  virtual Result<std::optional<Deployment>> deployment(std::int64_t id, bool with_history) = 0;
  virtual Result<std::vector<Deployment>> deployments(const DeploymentFilter& filter) = 0;
  // Oldest deployment of one environment that should run next: an orphaned `running` one first.
  virtual Result<std::optional<Deployment>> next_to_run(const std::string& project, const std::string& environment) = 0;
  // Every (project, environment) with queued or running work.
  virtual Result<std::vector<std::pair<std::string, std::string>>> lanes_with_work() = 0;
  virtual Result<std::int64_t> count_deliveries() = 0;
  virtual Result<void> ping() = 0;

  // Stops the writer after it finished what was already submitted.
  virtual void close() = 0;
};

}  // namespace shipgate::orchestration

template <>
struct boost::system::is_error_code_enum<shipgate::orchestration::StoreErrc> : std::true_type {};
