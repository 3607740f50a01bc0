#include "domain/insights.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "common/time_format.hpp"

namespace shipgate::orchestration {

namespace {

constexpr std::int64_t kDay = 86'400'000;

bool reached_target(const Deployment& d) {
  return d.state == State::succeeded || d.state == State::failed || d.state == State::rolled_back;
}
bool failed(const Deployment& d) { return d.state == State::failed || d.state == State::rolled_back; }

std::optional<std::int64_t> percentile(std::vector<std::int64_t> v, double q) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(q * static_cast<double>(v.size()))));
  return v[rank - 1];
}

nlohmann::json seconds_or_null(const std::optional<std::int64_t>& ms) {
  return ms ? nlohmann::json(*ms / 1000.0) : nlohmann::json(nullptr);
}

std::int64_t start_of(const Deployment& d) { return d.started_ms > 0 ? d.started_ms : d.created_ms; }

// A version that succeeded and was then rolled back by hand failed as a change: for each rollback that
// succeeded (in `done`, by finish), the version it took the environment back from, the newest success
// before the rollback started.
std::map<const Deployment*, const Deployment*> rolled_back_by_hand(const std::vector<const Deployment*>& done) {
  std::map<const Deployment*, const Deployment*> out;  // the version -> its rollback
  for (std::size_t i = 0; i < done.size(); ++i) {
    const Deployment& r = *done[i];
    if (r.trigger != Trigger::rollback || r.state != State::succeeded) continue;
    for (std::size_t j = i; j-- > 0;) {
      const Deployment& v = *done[j];
      if (v.state != State::succeeded || v.finished_ms > start_of(r)) continue;
      if (v.trigger != Trigger::rollback && !out.contains(&v)) out[&v] = &r;
      break;
    }
  }
  return out;
}

}  // namespace

DeliveryFigures delivery_figures(const std::vector<Deployment>& all, std::int64_t now_ms, int days) {
  DeliveryFigures f;
  f.days = days;
  const std::int64_t first_day = (now_ms / kDay - (days - 1)) * kDay;
  const std::int64_t since = now_ms - days * kDay;
  std::vector<const Deployment*> done;
  for (const auto& d : all)
    if (reached_target(d) && d.finished_ms > 0) done.push_back(&d);
  std::sort(done.begin(), done.end(), [](const auto* a, const auto* b) { return a->finished_ms < b->finished_ms; });

  f.daily.resize(static_cast<std::size_t>(days));
  for (int i = 0; i < days; ++i) f.daily[static_cast<std::size_t>(i)].day_ms = first_day + i * kDay;
  std::vector<std::vector<std::int64_t>> daily_leads(static_cast<std::size_t>(days));
  std::vector<std::int64_t> leads, restores;
  const auto by_hand = rolled_back_by_hand(done);
  for (std::size_t i = 0; i < done.size(); ++i) {
    const Deployment& d = *done[i];
    if (d.finished_ms <= since || d.finished_ms > now_ms) continue;
    const auto day = (d.finished_ms - first_day) / kDay;
    DeliveryDay* bucket = day >= 0 && day < days ? &f.daily[static_cast<std::size_t>(day)] : nullptr;
    if (failed(d)) {
      // Restored by its own rollback, else by the next success.
      std::optional<std::int64_t> back;
      if (d.state == State::rolled_back) back = d.finished_ms;
      for (std::size_t j = i + 1; !back && j < done.size(); ++j)
        if (done[j]->state == State::succeeded) back = done[j]->finished_ms;
      if (back) restores.push_back(*back - start_of(d));
      else ++f.unrestored;
    }
    if (d.trigger == Trigger::rollback) {
      // Restoring, not delivering; a rollback by hand restores from its start to its success.
      if (d.state == State::succeeded) restores.push_back(d.finished_ms - start_of(d));
      continue;
    }
    ++f.reached_target;
    if (failed(d) || by_hand.contains(&d)) {
      ++f.failures;
      if (bucket) ++bucket->failures;
      continue;
    }
    ++f.deployments;
    if (bucket) ++bucket->deployments;
    if (d.committed_ms > 0 && d.finished_ms >= d.committed_ms) {
      leads.push_back(d.finished_ms - d.committed_ms);
      if (bucket) daily_leads[static_cast<std::size_t>(day)].push_back(d.finished_ms - d.committed_ms);
    }
  }
  f.per_day = days > 0 ? static_cast<double>(f.deployments) / days : 0;
  f.lead_time_samples = static_cast<int>(leads.size());
  f.lead_time_median_ms = percentile(leads, 0.5);
  f.lead_time_p90_ms = percentile(leads, 0.9);
  if (f.reached_target > 0) f.change_failure_rate = static_cast<double>(f.failures) / f.reached_target;
  f.restore_samples = static_cast<int>(restores.size());
  f.restore_median_ms = percentile(restores, 0.5);
  for (int i = 0; i < days; ++i)
    f.daily[static_cast<std::size_t>(i)].lead_time_median_ms = percentile(daily_leads[static_cast<std::size_t>(i)], 0.5);
  return f;
}

nlohmann::json to_json(const DeliveryFigures& f) {
  nlohmann::json daily = nlohmann::json::array();
  for (const auto& d : f.daily)
    daily.push_back({{"day", format_rfc3339_ms(d.day_ms).substr(0, 10)},
                     {"deployments", d.deployments},
                     {"failures", d.failures},
                     {"lead_time_median_s", seconds_or_null(d.lead_time_median_ms)}});
  return {{"deployment_frequency", {{"deployments", f.deployments}, {"per_day", f.per_day}}},
          {"lead_time", {{"median_s", seconds_or_null(f.lead_time_median_ms)},
                         {"p90_s", seconds_or_null(f.lead_time_p90_ms)},
                         {"samples", f.lead_time_samples}}},
          {"change_failure_rate", {{"rate", f.change_failure_rate ? nlohmann::json(*f.change_failure_rate) : nlohmann::json(nullptr)},
                                   {"failures", f.failures},
                                   {"deployments", f.reached_target}}},
          {"time_to_restore", {{"median_s", seconds_or_null(f.restore_median_ms)},
                               {"samples", f.restore_samples},
                               {"unrestored", f.unrestored}}},
          {"daily", daily}};
}

}  // namespace shipgate::orchestration
