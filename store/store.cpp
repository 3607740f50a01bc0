// What every store shares: its error category and the names its outbox rows and schedule runs are
// stored under.
#include "store/store.hpp"

#include "common/name_table.hpp"

namespace shipgate::orchestration {

namespace {

class StoreCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "shipgate.store"; }
  std::string message(int ev) const override {
    switch (static_cast<StoreErrc>(ev)) {
      case StoreErrc::overloaded: return "store write queue is full";
      case StoreErrc::io_error: return "store write failed";
      case StoreErrc::not_found: return "not found";
      case StoreErrc::closed: return "store is closed";
      case StoreErrc::in_use: return "store is in use by another process";
      case StoreErrc::lane_lost: return "another replica took over this deployment's environment";
    }
    return "unknown store error";
  }
};

constexpr std::pair<OutboxKind, std::string_view> kKinds[] = {
    {OutboxKind::event, "event"}, {OutboxKind::notify, "notify"}, {OutboxKind::github, "github"}};

constexpr std::pair<OutboxOutcome, std::string_view> kOutcomes[] = {{OutboxOutcome::pending, ""},
                                                                    {OutboxOutcome::delivered, "delivered"},
                                                                    {OutboxOutcome::gave_up, "gave_up"},
                                                                    {OutboxOutcome::expanded, "expanded"}};

constexpr std::pair<ScheduleOutcome, std::string_view> kScheduleOutcomes[] = {
    {ScheduleOutcome::pending, "pending"}, {ScheduleOutcome::passed, "passed"}, {ScheduleOutcome::failed, "failed"},
    {ScheduleOutcome::queued, "queued"},   {ScheduleOutcome::skipped, "skipped"}};

}  // namespace

const boost::system::error_category& store_category() {
  static const StoreCategory category;
  return category;
}

std::string_view to_string(OutboxKind k) { return name_in(kKinds, k); }
std::optional<OutboxKind> parse_outbox_kind(std::string_view s) { return value_in(kKinds, s); }
std::string_view to_string(OutboxOutcome o) { return name_in(kOutcomes, o); }
std::optional<OutboxOutcome> parse_outbox_outcome(std::string_view s) { return value_in(kOutcomes, s); }
std::string_view to_string(ScheduleOutcome o) { return name_in(kScheduleOutcomes, o); }
std::optional<ScheduleOutcome> parse_schedule_outcome(std::string_view s) { return value_in(kScheduleOutcomes, s); }

IngestedDeployment ingested(const NewDeployment& incoming, const IngestPlan& plan) {
  IngestedDeployment out{0, incoming.project, incoming.environment, incoming.initial, incoming.version, false, {}, {}};
  if (plan.kind == IngestKind::skip) out.skipped = plan.skipped;
  if (plan.kind == IngestKind::reuse) {
    out.id = plan.existing->id;
    out.state = plan.existing->state;
    out.reused = true;
  }
  return out;
}

}  // namespace shipgate::orchestration
