#include "cli/status_view.hpp"

#include <algorithm>
#include <cstdio>

namespace shipgate::cli {

using nlohmann::json;

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "-";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string short_version(const std::string& v) { return v.size() == 40 && v.find('.') == std::string::npos ? v.substr(0, 12) : v; }

// Prints rows as aligned columns.
void table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

void print_deployments(const json& list) {
  std::vector<std::vector<std::string>> rows = {{"ID", "PROJECT", "ENV", "STATE", "VERSION", "TRIGGER", "ACTOR", "CREATED"}};
  for (const auto& d : list)
    rows.push_back({text(d, "id"), text(d, "project"), text(d, "environment"), text(d, "state"),
                    short_version(text(d, "version")), text(d, "trigger"), text(d, "actor"), text(d, "created_at")});
  table(rows);
}

void print_overview(const json& projects) {
  std::vector<std::vector<std::string>> rows = {{"PROJECT", "ENV", "CURRENT", "SINCE", "RUNNING", "WAITING"}};
  for (const auto& proj : projects["projects"])
    for (const auto& e : proj["environments"]) {
      const auto& cur = e["current"];
      std::string waiting;
      for (const auto& w : e["waiting"])
        waiting += (waiting.empty() ? "" : ", ") + text(w, "id") + " " + text(w, "state");
      rows.push_back({text(proj, "name"), text(e, "name"), cur.is_null() ? "-" : short_version(text(cur, "version")),
                      cur.is_null() ? "-" : text(cur, "since"), text(e, "running"), waiting.empty() ? "-" : waiting});
    }
  table(rows);
}

void print_environment(const std::string& project, const std::string& environment, const json& b) {
  std::printf("%s/%s\n", project.c_str(), environment.c_str());
  const auto& cur = b["current"];
  std::printf("  current:  %s\n", cur.is_null() ? "-" : (text(cur, "version") + " since " + text(cur, "since") +
                                                       " (deployment " + text(cur, "deployment") + ")").c_str());
  std::string running = "-";
  if (!b["running"].is_null()) {
    running = text(b["running"], "id") + " " + text(b["running"], "version");
    // A running deployment may still wait, for its images: say so, or it looks stuck.
    if (b["running"].contains("waiting_reason")) running += ": " + text(b["running"], "waiting_reason");
  }
  std::printf("  running:  %s\n", running.c_str());
  if (b.contains("gate")) std::printf("  gate:     %s\n", b["gate"]["open"] == true ? "open" : text(b["gate"], "reason").c_str());
  for (const auto& w : b["waiting"])
    std::printf("  waiting:  %s %s %s: %s\n", text(w, "id").c_str(), short_version(text(w, "version")).c_str(),
                text(w, "state").c_str(), text(w, "reason").c_str());
  for (const auto& bad : b["bad_versions"])
    std::printf("  bad:      %s (%s)\n", text(bad, "version").c_str(), text(bad, "reason").c_str());
  if (b.contains("schedules"))
    for (const auto& sc : b["schedules"]) {
      const auto& last = sc["last"];
      std::printf("  schedule: %s %s %s, next %s, last %s\n", text(sc, "cron").c_str(), text(sc, "timezone").c_str(),
                  text(sc, "action").c_str(), text(sc, "next").c_str(),
                  last.is_null() ? "-" : (text(last, "outcome") + " " + text(last, "due") + ": " + text(last, "message")).c_str());
    }
  if (b.contains("drift") && b["drift"].is_object()) {
    std::string drift = text(b["drift"], "state");
    for (const auto& d : b["drift"].value("differences", json::array()))
      drift += "; " + text(d, "deployment") + " " + text(d, "field") + " " + text(d, "live") + ", applied " + text(d, "applied");
    std::printf("  drift:    %s\n", drift.c_str());
  }
  if (!b["recent"].empty()) {
    std::printf("  recent:\n");
    print_deployments(b["recent"]);
  }
}

}  // namespace shipgate::cli
