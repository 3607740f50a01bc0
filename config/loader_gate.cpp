// An environment's gate in the config: its approval rule, deploy windows and freezes.
#include "config/loader_internal.hpp"

#include <cctype>
#include <cstdlib>
#include <set>

#include "common/text.hpp"
#include "config/time_zone.hpp"
#include "config/units.hpp"

namespace shipgate::config::detail {

void Loader::load_approval(const YAML::Node& n, const std::string& path, ApprovalConfig& a) {
  if (!is_map(n, path)) return;
  Section approval(*this, n, path);
  approval.integer("required", a.required, 1, 100);
  approval.list("reviewers", a.reviewers);
  approval.duration("expire_after", a.expire_after);
  approval.boolean("allow_self_approval", a.allow_self_approval);
}

void Loader::load_windows(const YAML::Node& n, const std::string& path, std::vector<DeployWindow>& out) {
  if (!n.IsSequence()) {
    error(path, "must be a list of windows");
    return;
  }
  static const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    if (!is_map(n[i], p)) continue;
    Section window(*this, n[i], p);
    DeployWindow w;
    if (!window["days"]) {
      for (int d = 0; d < 7; ++d) w.days.insert(d);
    } else {
      std::vector<std::string> days;
      window.list("days", days);
      for (std::size_t j = 0; j < days.size(); ++j) {
        int found = -1;
        for (int d = 0; d < 7; ++d)
          if (to_lower(days[j]) == kDays[d]) found = d;
        if (found < 0) error(window.at("days") + "[" + std::to_string(j) + "]", "must be one of mon, tue, wed, thu, fri, sat, sun");
        else w.days.insert(found);
      }
    }
    auto minute = [&](const char* key) -> int {
      if (!window.require(key, "HH:MM")) return -1;
      auto v = window.text(key);
      if (!v) return -1;
      int h = -1, m = -1;
      char extra = 0;
      if (std::sscanf(v->c_str(), "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || h > 24 || m < 0 || m > 59 ||
          (h == 24 && m != 0)) {
        error(window.at(key), "must be a time of day HH:MM, e.g. 09:00");
        return -1;
      }
      return h * 60 + m;
    };
    w.from_minute = minute("from");
    w.to_minute = minute("to");
    if (w.from_minute >= 0 && w.from_minute == w.to_minute) error(p, "from and to must differ");
    if (window.require("timezone", "an IANA name such as Europe/Berlin or UTC")) {
      window.nonempty("timezone", w.timezone);
      if (!w.timezone.empty() && !valid_time_zone(w.timezone))
        error(window.at("timezone"), "unknown time zone '" + w.timezone + "'");
    }
    out.push_back(std::move(w));
  }
}

void Loader::load_freezes(const YAML::Node& n, const std::string& path, std::vector<Freeze>& out) {
  if (!n.IsSequence()) {
    error(path, "must be a list of freezes");
    return;
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    if (!is_map(n[i], p)) continue;
    Section freeze(*this, n[i], p);
    Freeze f;
    for (auto [key, field] : {std::pair<const char*, std::int64_t*>{"from", &f.from_ms}, {"to", &f.to_ms}}) {
      if (!freeze.require(key, "RFC 3339 time, e.g. 2026-12-20T00:00:00Z")) continue;
      if (auto v = freeze.text(key)) {
        if (auto t = parse_rfc3339(*v)) *field = *t;
        else error(freeze.at(key), "must be an RFC 3339 time with offset, e.g. 2026-12-20T00:00:00Z");
      }
    }
    if (f.from_ms && f.to_ms && f.to_ms <= f.from_ms) error(freeze.at("to"), "must be after from");
    freeze.string("reason", f.reason);
    out.push_back(std::move(f));
  }
}

}  // namespace shipgate::config::detail
