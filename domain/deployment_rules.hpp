// The rules a store applies when it writes, as pure functions: a store reads the rows a rule needs,
// asks the rule, and writes what it decided. Every store (SQLite, PostgreSQL) applies the same rules.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/deployment.hpp"

namespace shipgate::orchestration {

// An unfinished (pending_approval, queued or running) deployment of the environment a new one joins.
struct Unfinished {
  std::int64_t id = 0;
  State state = State::queued;
  std::string version;
  std::string sha;
  std::map<std::string, std::string> images;
  Trigger trigger = Trigger::push;
};

// Where a new deployment goes among the unfinished ones of its environment.
struct Placement {
  std::optional<Unfinished> existing;  // the same version already waits or runs: nothing is created
  std::vector<Unfinished> superseded;  // older ones that have not started: ended `superseded`
};

// The same version (SHA and images) already waiting or running is not deployed twice. Otherwise the
// new deployment supersedes every older one that has not started, except those that jump the queue
// (overrides and rollbacks); a new override or rollback supersedes nothing and always gets its own row.
Placement place(const NewDeployment& incoming, const std::vector<Unfinished>& unfinished);

// An automatic trigger never puts an older semantic version over a newer one: the version that runs
// in the environment (`running`, its newest succeeded version) or one waiting or running there. The
// newer version it would replace, or nothing (also when the versions are not semantic versions).
// Manual deploys, overrides and rollbacks may go back.
std::optional<std::string> newer_version_in_place(const NewDeployment& incoming, const std::vector<Unfinished>& unfinished,
                                                  std::string_view running);

// The queued deployment that ends the image wait of `waiting` (which has changed nothing yet): one
// created after it that ranks at least as high (an automatic push never replaces a person's override
// or rollback; an older deployment queued behind an override never replaces it). nullptr when none.
const Deployment* newer_queued_work(const Deployment& waiting, const std::vector<Deployment>& queued);

// What a GitHub Actions job waiting on a deployment protection rule is told when its deployment
// reaches `reached`: approved when it is handed over; rejected when it ends before that (rejected,
// expired, superseded, cancelled while waiting); nothing otherwise (other triggers, and the ends
// GitHub itself reports after the hand-over).
enum class ProtectionAnswer { approved, rejected };
std::string_view to_string(ProtectionAnswer a);
std::optional<ProtectionAnswer> protection_answer(Trigger trigger, State reached, bool handed_over);

// Whether a bad-version mark names this version: by version, or by SHA when both know one.
bool names_version(const BadVersion& mark, std::string_view version, std::string_view sha);

// A version a person chose to deploy (manual or override) that then succeeded is no longer bad there.
bool clears_bad_mark(Trigger trigger, State reached);

// The final state a deployment counts as in shipgate_deployments_total: its own, except that a rollback
// by hand that succeeded counts as `rolled_back`, the end of the version it took the environment back
// from (an automatic rollback ends that version's deployment rolled_back itself).
std::string_view counted_final_state(Trigger trigger, State reached);

// The words of the rules, the same from every store: why an automatic deployment is skipped (a bad
// mark names its version; a newer version is in place), with the details its `skipped` audit entry
// carries, and why an older waiting deployment ends `superseded`.
std::string marked_bad_reason(const BadVersion& mark, std::string_view environment);
std::string older_version_reason(const NewDeployment& incoming, std::string_view newer);
nlohmann::json skipped_details(const NewDeployment& incoming);
std::string superseded_reason(std::int64_t by, std::string_view version);

// The audit action a history entry is also recorded as.
AuditAction audit_action(std::optional<State> from, State to);

// What a deployment's creation (`from` empty) or change of state writes beside its history row, the
// same in every store: an audit entry (the audit log alone tells the whole story), a count in
// final_counts when it ends, an outbox event when its state changed, and a wake for its lane when it
// becomes queued (a store with several replicas tells them).
struct TransitionRecord {
  AuditEntry audit;
  std::optional<std::string_view> final_count;  // the state it counts as (counted_final_state)
  bool event = false;
  bool wakes = false;
};
TransitionRecord transition_record(std::int64_t id, const std::string& project, const std::string& environment,
                                   std::optional<State> from, State to, const std::string& actor,
                                   const std::string& reason, std::int64_t at, Trigger trigger);

// How many succeeded deployments of an environment are searched for the previous version.
constexpr int kPreviousVersionSearch = 200;

// The version to roll back to: the newest succeeded deployment (the list is newest first) other than
// `current` whose version or images differ from it. nullptr when there is none.
const Deployment* previous_version(const std::vector<Deployment>& succeeded, const Deployment& current);

// Where an automatic rollback of `failed` goes back to: its previous version, except for a config
// redeploy (the same version with the platform commit's settings and files), which goes back to the
// newest succeeded deployment of any version: what it replaced in the targets is put back.
const Deployment* rollback_target(const std::vector<Deployment>& succeeded, const Deployment& failed);
// Whether an automatic rollback marks the failed version bad: not when the version it goes back to is
// the same one (only the config failed, not the version).
bool marks_bad_on_rollback(const Deployment& failed, const Deployment& target);

}  // namespace shipgate::orchestration
