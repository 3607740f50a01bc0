// How a new deployment joins its environment, planned once for every store: the store reads what the
// plan needs (ingest_reads), asks plan_ingest, and writes what it says in the transaction of the
// delivery. The SQLite store, the PostgreSQL store and the PostgreSQL batch of webhooks all apply this
// one function, so the rules of a push, a build notification or a promotion live here only.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/deployment.hpp"
#include "domain/deployment_rules.hpp"

namespace shipgate::orchestration {

// What an environment holds that decides a new deployment, as read before the write.
struct EnvironmentView {
  std::vector<BadVersion> bad;   // its bad-version marks (read when the plan looks at them)
  std::vector<Unfinished> open;  // its pending_approval, queued and running deployments
  std::string current;           // its newest succeeded version; empty when none or not read
};

// Which parts of the view a plan for `incoming` looks at; a store reads only those.
struct IngestReads {
  bool bad_marks = false;        // an automatic trigger: a version marked bad there is skipped
  bool current_version = false;  // an automatic trigger for a semantic version: never an older one
};
IngestReads ingest_reads(const NewDeployment& incoming);

enum class IngestKind {
  skip,    // not deployed: `skipped` says why (an audit entry records it)
  reuse,   // the same version already waits or runs there: `existing` answers for it
  insert,  // a new deployment, which ends `superseded` the older waiting ones
};

struct IngestPlan {
  IngestKind kind = IngestKind::insert;
  std::string skipped;                 // skip: why
  std::optional<Unfinished> existing;  // reuse
  std::vector<Unfinished> superseded;  // insert: each ends superseded, with superseded_reason(new id, version)
  bool override_event = false;         // insert: the outbox also tells of an override
  nlohmann::json skip_details = nlohmann::json::object();  // skip: what its audit entry carries

  // skip: the audit entry that says why, at `now`.
  AuditEntry skipped_audit(const NewDeployment& incoming, std::int64_t now) const;
};

IngestPlan plan_ingest(const NewDeployment& incoming, const EnvironmentView& view);

// The view as the next deployment of the same environment sees it (a batch of webhooks): the new
// deployment, given `id`, waits there and those it superseded do not.
void record_in_view(EnvironmentView& view, const NewDeployment& incoming, const IngestPlan& plan, std::int64_t id);

// A bad-version mark written in the same transaction: it replaces the environment's mark of that version.
void record_in_view(EnvironmentView& view, const BadVersion& mark);

}  // namespace shipgate::orchestration
