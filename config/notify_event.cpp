#include "config/notify_event.hpp"

#include <utility>

#include "common/name_table.hpp"

namespace shipgate::config {

namespace {

constexpr std::pair<NotifyEvent, std::string_view> kNotifyEvents[] = {
    {NotifyEvent::pending_approval, "pending_approval"}, {NotifyEvent::succeeded, "succeeded"},
    {NotifyEvent::failed, "failed"},                     {NotifyEvent::rolled_back, "rolled_back"},
    {NotifyEvent::override_, "override"},                {NotifyEvent::verify_failed, "verify_failed"},
    {NotifyEvent::drift, "drift"},
};

}  // namespace

std::optional<NotifyEvent> parse_notify_event(std::string_view s) { return value_in(kNotifyEvents, s); }
std::string_view to_string(NotifyEvent e) { return name_in(kNotifyEvents, e); }

}  // namespace shipgate::config
