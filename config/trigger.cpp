#include "config/trigger.hpp"

#include <utility>

#include "common/name_table.hpp"

namespace shipgate::config {

namespace {

constexpr std::pair<Trigger, std::string_view> kTriggers[] = {
    {Trigger::push, "push"},           {Trigger::tag, "tag"},           {Trigger::dispatch, "dispatch"},
    {Trigger::build, "build"},         {Trigger::manual, "manual"},     {Trigger::promotion, "promotion"},
    {Trigger::override_, "override"},  {Trigger::rollback, "rollback"}, {Trigger::config_change, "config"},
    {Trigger::release, "release"},     {Trigger::schedule, "schedule"}, {Trigger::registry, "registry"},
    {Trigger::github_actions, "github_actions"},
};

}  // namespace

std::string_view to_string(Trigger t) { return name_in(kTriggers, t); }
std::optional<Trigger> parse_trigger(std::string_view s) { return value_in(kTriggers, s); }

bool is_deploy_on_trigger(Trigger t) {
  return t == Trigger::push || t == Trigger::dispatch || t == Trigger::build || t == Trigger::release;
}

}  // namespace shipgate::config
