// The four delivery figures of one environment over a period, from its deployments:
// - deployment frequency: deployments that succeeded (rollbacks not counted);
// - lead time for changes: from the commit (committed_at) to its deployment's success, median and p90;
// - change failure rate: failed or rolled back deployments among those that reached the target
//   (rollbacks not counted);
// - time to restore: from a failed deployment's start to the environment running a good version
//   again (the failed one's own rollback, else the next success), median.
// Plus the same per day, for the page's charts. Pure: the caller reads the deployments.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/deployment.hpp"

namespace shipgate::orchestration {

struct DeliveryDay {
  std::int64_t day_ms = 0;  // UTC midnight
  int deployments = 0;
  int failures = 0;
  std::optional<std::int64_t> lead_time_median_ms;
};

struct DeliveryFigures {
  int days = 0;
  int deployments = 0;  // succeeded, not counting rollbacks
  double per_day = 0;
  std::optional<std::int64_t> lead_time_median_ms;
  std::optional<std::int64_t> lead_time_p90_ms;
  int lead_time_samples = 0;
  int failures = 0;
  int reached_target = 0;
  std::optional<double> change_failure_rate;
  std::optional<std::int64_t> restore_median_ms;
  int restore_samples = 0;
  int unrestored = 0;  // failures with no good version since
  std::vector<DeliveryDay> daily;  // oldest first, one per day of the period
};

// `deployments`: the environment's, any order; those finished before `now_ms - days` are ignored.
DeliveryFigures delivery_figures(const std::vector<Deployment>& deployments, std::int64_t now_ms, int days);

nlohmann::json to_json(const DeliveryFigures& f);

}  // namespace shipgate::orchestration
