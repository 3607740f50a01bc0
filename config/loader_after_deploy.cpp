// What an environment does after a deploy: schedules (verify, redeploy at cron times) and the error-rate
// analysis that keeps watching a deployment after its smoke checks, and the canary that goes first.
#include <charconv>

#include "config/loader_internal.hpp"
#include "config/time_zone.hpp"

namespace shipgate::config::detail {

void Loader::load_schedules(const YAML::Node& n, const std::string& path, std::vector<Schedule>& out) {
  if (!n.IsSequence()) {
    error(path, "must be a list of schedules");
    return;
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    if (!is_map(n[i], p)) continue;
    Section schedule(*this, n[i], p);
    Schedule s;
    if (schedule.require("cron", "five fields, e.g. \"0 9 * * *\"")) schedule.nonempty("cron", s.cron);
    if (!s.cron.empty()) {
      std::string why;
      if (auto spec = parse_cron(s.cron, why)) s.spec = *spec;
      else error(schedule.at("cron"), why);
    }
    schedule.nonempty("timezone", s.timezone);
    if (!valid_time_zone(s.timezone)) error(schedule.at("timezone"), "unknown time zone '" + s.timezone + "'");
    if (schedule.require("action", "verify or redeploy")) {
      if (auto action = schedule.text("action")) {
        if (*action == "redeploy") s.action = Schedule::Action::redeploy;
        else if (*action != "verify") error(schedule.at("action"), "must be verify (smoke checks against what runs) or redeploy");
      }
    }
    for (const auto& earlier : out)
      if (earlier.key() == s.key()) error(p, "repeats an earlier schedule (" + s.key() + ")");
    out.push_back(std::move(s));
  }
}

void Loader::load_analysis(const YAML::Node& n, const std::string& path, std::optional<Analysis>& out) {
  if (!is_map(n, path)) return;
  Section analysis(*this, n, path);
  Analysis a;
  if (analysis.require("prometheus", "the Prometheus server's URL")) {
    analysis.nonempty("prometheus", a.prometheus);
    if (!a.prometheus.empty()) check_url(a.prometheus, analysis.at("prometheus"));
  }
  if (analysis.require("query", "PromQL giving an error ratio")) analysis.nonempty("query", a.query);
  if (analysis.require("max", "the highest error ratio that passes, e.g. 0.01")) {
    if (auto text = analysis.text("max")) {
      double v = -1;
      const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
      if (ec != std::errc() || end != text->data() + text->size() || !(v >= 0))
        error(analysis.at("max"), "must be a number of at least 0, e.g. 0.01");
      else
        a.max = v;
    }
  }
  analysis.duration("for", a.watch_for);
  analysis.duration("interval", a.interval);
  analysis.duration("timeout", a.timeout);
  if (a.watch_for.count() <= 0) error(analysis.at("for"), "must be greater than 0");
  if (a.interval.count() <= 0) error(analysis.at("interval"), "must be greater than 0");
  else if (a.interval > a.watch_for) error(analysis.at("interval"), "must not be longer than for");
  if (a.timeout.count() <= 0) error(analysis.at("timeout"), "must be greater than 0");
  analysis.string("ca_file", a.tls.ca_file);
  out = std::move(a);
}

void Loader::load_canary(const YAML::Node& n, const std::string& path, Environment& env) {
  if (!is_map(n, path)) return;
  Section canary(*this, n, path);
  Canary c;
  if (canary.require("deployment", "the canary Deployment's name")) canary.nonempty("deployment", c.deployment);
  canary.nonempty("component", c.component);
  canary.nonempty("container", c.container);
  // The Kubernetes target (and workload) the canary stands beside: the one of `component`, or the only one.
  const KubernetesWorkload* main = nullptr;
  std::size_t candidates = 0;
  for (std::size_t i = 0; i < env.targets.size(); ++i) {
    const auto* k = std::get_if<KubernetesTargetConfig>(&env.targets[i].spec);
    if (!k) continue;
    for (const auto& w : k->workloads) {
      if (!c.component.empty() && w.component != c.component) continue;
      if (!main) {
        main = &w;
        c.target = i;
      }
      ++candidates;
    }
  }
  if (!main) {
    error(path, c.component.empty() ? "needs a kubernetes target in this environment"
                                    : "no kubernetes target of this environment deploys component '" + c.component + "'");
  } else if (candidates > 1 && c.component.empty()) {
    error(canary.at("component"), "is required: the kubernetes targets deploy several components");
  } else {
    c.component = main->component;
    c.main_deployment = main->deployment;
    if (std::get<KubernetesTargetConfig>(env.targets[c.target].spec).blue_green)
      error(path, "cannot stand beside a blue_green target (its traffic moves by the switch)");
    if (c.container.empty()) c.container = main->container;
    if (c.deployment == main->deployment) error(canary.at("deployment"), "must not be the main Deployment (" + main->deployment + ")");
  }
  if (canary.require("steps", "e.g. [ { weight: 10, pause: 5m } ]")) {
    const auto steps = canary["steps"];
    if (!steps.IsSequence() || steps.size() == 0) error(canary.at("steps"), "must be a list of at least one step");
    else
      for (std::size_t i = 0; i < steps.size(); ++i) {
        const std::string p = canary.at("steps") + "[" + std::to_string(i) + "]";
        if (!is_map(steps[i], p)) continue;
        Section step(*this, steps[i], p);
        CanaryStep s;
        if (step.require("weight", "percent of traffic, 1 to 100")) step.integer("weight", s.weight, 1, 100);
        if (step.require("pause", "how long the step is watched, e.g. 5m")) step.duration("pause", s.pause);
        if (s.pause.count() <= 0 && step["pause"]) error(step.at("pause"), "must be greater than 0");
        if (!c.steps.empty() && s.weight < c.steps.back().weight) error(step.at("weight"), "must not be lower than the step before");
        c.steps.push_back(s);
      }
  }
  if (const auto analysis = canary["analysis"]) load_analysis(analysis, canary.at("analysis"), c.analysis);
  if (const auto traffic = canary["traffic"]; traffic && is_map(traffic, canary.at("traffic"))) {
    Section t(*this, traffic, canary.at("traffic"));
    CanaryRoute route{{}, c.main_deployment, c.deployment};
    if (t.require("httproute", "the HTTPRoute whose backend weights route the canary's share")) t.nonempty("httproute", route.httproute);
    t.nonempty("service", route.service);
    t.nonempty("canary_service", route.canary_service);
    if (route.service == route.canary_service) error(t.at("canary_service"), "must not be the main Service");
    c.traffic = std::move(route);
  }
  env.canary = std::move(c);
}

}  // namespace shipgate::config::detail
