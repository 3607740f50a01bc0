#include "store/postgres/pg_schema.hpp"

#include <spdlog/spdlog.h>

#include <iterator>

namespace shipgate::orchestration {

namespace {

// The key of the session-level advisory lock migrations hold: any number the application owns.
constexpr const char* kMigrationLock = "7297736842";

// Append only: a database records how many of these ran. Times are milliseconds since the epoch, as in
// the SQLite store, so both stores read and write the same values.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE deliveries (
  key TEXT PRIMARY KEY,
  received_at BIGINT NOT NULL,
  source TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE deployments (
  id BIGSERIAL PRIMARY KEY,
  project TEXT NOT NULL,
  environment TEXT NOT NULL,
  state TEXT NOT NULL,
  version TEXT NOT NULL,
  sha TEXT NOT NULL,
  ref TEXT NOT NULL,
  images TEXT NOT NULL,
  trigger TEXT NOT NULL,
  actor TEXT NOT NULL,
  delivery TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  message TEXT NOT NULL DEFAULT '',
  result TEXT NOT NULL DEFAULT '{}',
  priority INTEGER NOT NULL DEFAULT 0,
  policy TEXT NOT NULL DEFAULT '{}',
  expires_at BIGINT,
  waiting_reason TEXT NOT NULL DEFAULT '',
  config_sha TEXT NOT NULL DEFAULT '',
  config_commit TEXT NOT NULL DEFAULT '',
  github_id BIGINT
);
CREATE INDEX deployments_by_env ON deployments(project, environment, id);
CREATE INDEX deployments_by_env_state ON deployments(project, environment, state, id);
CREATE INDEX deployments_by_project ON deployments(project, id);
CREATE INDEX deployments_active ON deployments(state, id) WHERE state IN ('pending_approval', 'queued', 'running');
CREATE INDEX deployments_expiring ON deployments(expires_at) WHERE state = 'pending_approval' AND expires_at IS NOT NULL;
CREATE TABLE history (
  id BIGSERIAL PRIMARY KEY,
  deployment_id BIGINT NOT NULL REFERENCES deployments(id),
  at BIGINT NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX history_by_deployment ON history(deployment_id, id);
CREATE TABLE approvals (
  deployment_id BIGINT NOT NULL REFERENCES deployments(id),
  reviewer TEXT NOT NULL,
  at BIGINT NOT NULL,
  comment TEXT NOT NULL,
  PRIMARY KEY (deployment_id, reviewer)
);
CREATE TABLE bad_versions (
  project TEXT NOT NULL,
  environment TEXT NOT NULL,
  version TEXT NOT NULL,
  sha TEXT NOT NULL,
  marked_at BIGINT NOT NULL,
  deployment_id BIGINT,
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  PRIMARY KEY (project, environment, version)
);
CREATE TABLE audit (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  project TEXT NOT NULL DEFAULT '',
  environment TEXT NOT NULL DEFAULT '',
  deployment_id BIGINT,
  reason TEXT NOT NULL DEFAULT '',
  details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_time ON audit(at, id);
CREATE TABLE final_counts (
  project TEXT NOT NULL,
  environment TEXT NOT NULL,
  state TEXT NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (project, environment, state)
);
CREATE TABLE outbox (
  id BIGSERIAL PRIMARY KEY,
  kind TEXT NOT NULL,
  destination TEXT NOT NULL DEFAULT '',
  deployment_id BIGINT NOT NULL,
  event TEXT NOT NULL,
  payload TEXT NOT NULL DEFAULT '{}',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  done_at BIGINT,
  outcome TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox(next_at) WHERE done_at IS NULL;
CREATE INDEX outbox_by_deployment ON outbox(deployment_id, id);
CREATE TABLE health (id INTEGER PRIMARY KEY, at BIGINT NOT NULL);
-- One row per lane (project, environment) a replica holds: the lease, and the fencing number every
-- later write of the holder checks, so a replica that lost its lease can never write over the new one.
CREATE TABLE lanes (
  project TEXT NOT NULL,
  environment TEXT NOT NULL,
  holder TEXT NOT NULL DEFAULT '',
  fence BIGINT NOT NULL DEFAULT 0,
  expires_at BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (project, environment)
);
)sql",
    // Several replicas: the config generations deployments were created under (the text as read, so a
    // replica that never loaded one can still run them), and which config each replica runs.
    R"sql(
CREATE TABLE config_generations (
  sha256 TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  first_seen BIGINT NOT NULL
);
CREATE TABLE replicas (
  id TEXT PRIMARY KEY,
  config_sha256 TEXT NOT NULL,
  version TEXT NOT NULL,
  seen_at BIGINT NOT NULL
);
)sql",
    // The deployments still open in a lane, which every ingest and every start reads. Through the
    // (project, environment, state, id) index the planner takes the state list as a filter and walks
    // every finished deployment of the lane (thousands in a busy one: 1 ms per ingest); this index
    // holds open deployments only.
    R"sql(
CREATE INDEX deployments_open_by_env ON deployments(project, environment, id)
  WHERE state IN ('pending_approval', 'queued', 'running');
)sql",
    // The last run of each environment's schedule (its key: cron, zone, action).
    R"sql(
CREATE TABLE schedule_runs (
  project TEXT NOT NULL,
  environment TEXT NOT NULL,
  schedule TEXT NOT NULL,
  due_at BIGINT NOT NULL,
  outcome TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  finished_at BIGINT NOT NULL DEFAULT 0,
  deployment_id BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (project, environment, schedule)
);
)sql",
    // How each environment's live Kubernetes Deployments compare with what was applied (drift).
    R"sql(
CREATE TABLE drift (
  project TEXT NOT NULL,
  environment TEXT NOT NULL,
  differences TEXT NOT NULL DEFAULT '[]',
  since_at BIGINT NOT NULL DEFAULT 0,
  checked_at BIGINT NOT NULL DEFAULT 0,
  deployment_id BIGINT NOT NULL DEFAULT 0,
  heals TEXT NOT NULL DEFAULT '[]',
  heal_limited BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (project, environment)
);
)sql",
    // When each version's commit was made (a push's head_commit.timestamp): where lead time starts.
    R"sql(
ALTER TABLE deployments ADD COLUMN committed_at BIGINT NOT NULL DEFAULT 0;
)sql",
    // Reviewers signed in on the web page, by the SHA-256 of their cookie.
    R"sql(
CREATE TABLE web_sessions (
  id_sha256 TEXT PRIMARY KEY,
  reviewer TEXT NOT NULL,
  token_sha256 TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
)sql",
    // History rows keep no foreign key to their deployment. The store writes them only in the
    // transaction that creates or changes that deployment, and deployments are never deleted, so the
    // key guarded nothing; its check cost a row lock (FOR KEY SHARE, a WAL-logged write to the
    // deployment's row) for every transition, about a tenth of each webhook's time in the database.
    // (SQLite keeps its key: there the check is a plain index read under the single writer.)
    R"sql(
ALTER TABLE history DROP CONSTRAINT IF EXISTS history_deployment_id_fkey;
)sql",
    // A GitHub Actions deployment deploying outside waits unfinished too: the indexes of open
    // deployments name the same states as the queries that read them (sql_terms' unfinished_term).
    R"sql(
DROP INDEX deployments_active;
CREATE INDEX deployments_active ON deployments(state, id)
  WHERE state IN ('pending_approval', 'queued', 'running', 'deploying_externally');
DROP INDEX deployments_open_by_env;
CREATE INDEX deployments_open_by_env ON deployments(project, environment, id)
  WHERE state IN ('pending_approval', 'queued', 'running', 'deploying_externally');
)sql",
};

}  // namespace

int pg_schema_version() { return static_cast<int>(std::size(kMigrations)); }

boost::asio::awaitable<std::string> migrate_pg(PgConnection& c) {
  // The session lock waits for a replica migrating right now; it is released below or with the session.
  std::vector<std::optional<std::string>> lock_key{kMigrationLock};
  if (auto locked = co_await c.query("SELECT pg_advisory_lock($1::bigint)", lock_key); !locked)
    co_return "cannot take the migration lock: " + locked.error().message;
  std::string failure;
  int applied = 0;
  auto made = co_await c.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                 "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
  if (!made) failure = "cannot create schema_migrations: " + made.error().message;
  if (failure.empty()) {
    auto seen = co_await c.query("SELECT COALESCE(max(version), 0) FROM schema_migrations");
    if (seen) applied = static_cast<int>(seen->int64(0, 0));
    else failure = "cannot read the schema version: " + seen.error().message;
  }
  if (failure.empty() && applied > pg_schema_version())
    failure = "database schema version " + std::to_string(applied) + " is newer than this shipgate";
  for (int i = applied; failure.empty() && i < pg_schema_version(); ++i) {
    const std::string script = std::string("BEGIN;") + kMigrations[i] + "INSERT INTO schema_migrations (version) VALUES (" +
                               std::to_string(i + 1) + "); COMMIT;";
    if (auto done = co_await c.execute(script); !done) {
      failure = "migration " + std::to_string(i + 1) + " failed: " + done.error().message;
      co_await c.roll_back();
    } else {
      spdlog::info("store: applied PostgreSQL schema migration {}", i + 1);
    }
  }
  if (c.ok()) co_await c.query("SELECT pg_advisory_unlock($1::bigint)", lock_key);
  co_return failure;
}

}  // namespace shipgate::orchestration
