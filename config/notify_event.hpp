// What a notifier may be told of (notify: events:), and the names the outbox stores them by. The outbox
// also records other state changes (queued, running), which only GitHub statuses report.
#pragma once
#include <optional>
#include <string_view>

namespace shipgate::config {

enum class NotifyEvent { pending_approval, succeeded, failed, rolled_back, override_, verify_failed, drift };
std::optional<NotifyEvent> parse_notify_event(std::string_view s);
std::string_view to_string(NotifyEvent e);

}  // namespace shipgate::config
