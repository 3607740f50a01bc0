// SQLite store: the Store interface over one write connection, owned by the group-commit writer
// (sqlite_writer.hpp), and one read connection. Its schema is in sqlite_schema.cpp, its row mapping in
// sqlite_rows.cpp. WAL mode with synchronous=FULL: a commit is on disk when COMMIT returns.
#include "orchestration/sqlite_store.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <pthread.h>
#include <sched.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "orchestration/sqlite_db.hpp"
#include "orchestration/sqlite_rows.hpp"
#include "orchestration/sqlite_schema.hpp"
#include "orchestration/sqlite_writer.hpp"
#include "orchestration/sqlite_writes.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

class SqliteStore final : public Store {
 public:
  SqliteStore(SqliteStoreOptions options, std::shared_ptr<const Clock> clock, int lock_fd)
      : options_(std::move(options)), clock_(std::move(clock)), lock_fd_(lock_fd) {}

  ~SqliteStore() override {
    close();
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  std::string open() {
    if (auto err = writer_db_.open(options_.path, false); !err.empty()) return err;
    // temp_store=MEMORY keeps the statement journal of each write's SAVEPOINT in memory: on disk it
    // cost a temporary-file write per changed page per write (most of the writer's system time).
    for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
                               "PRAGMA temp_store=MEMORY"})
      if (writer_db_.exec(pragma) != SQLITE_OK) return writer_db_.last_error();
    if (auto err = quick_check(writer_db_); !err.empty()) return err;
    if (auto err = migrate(writer_db_); !err.empty()) return err;
    if (auto err = reader_db_.open(options_.path, true); !err.empty()) return err;
    writer_.start();
    return {};
  }

  void close() override { writer_.close(); }

  // These are deliberately not coroutines: they hand the work to the writer and return its
  // awaitable. (GCC 12 double-destroys lambda captures created inside a co_await expression.)
  asio::awaitable<Result<IngestResult>> ingest(IngestRequest request) override {
    return writer_.submit<IngestResult>(
        [this, req = std::move(request)](Db& db) -> Result<IngestResult> { return writes_.do_ingest(db, req); });
  }

  asio::awaitable<Result<TransitionOutcome>> transition(TransitionRequest request) override {
    return writer_.submit<TransitionOutcome>(
        [this, req = std::move(request)](Db& db) -> Result<TransitionOutcome> { return writes_.do_transition(db, req); });
  }

  asio::awaitable<Result<void>> record_result(std::int64_t id, json result) override {
    return writer_.submit<void>([this, id, r = std::move(result)](Db& db) -> Result<void> {
      auto st = db.prepare("UPDATE deployments SET result = ?, updated_at = ? WHERE id = ?");
      st.bind(1, r.dump()).bind(2, now_ms()).bind(3, id);
      if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      return {};
    });
  }

  asio::awaitable<Result<ApprovalOutcome>> approve(ApprovalRequest request) override {
    return writer_.submit<ApprovalOutcome>(
        [this, req = std::move(request)](Db& db) -> Result<ApprovalOutcome> { return writes_.do_approve(db, req); });
  }

  asio::awaitable<Result<std::vector<std::int64_t>>> expire_due(std::int64_t now) override {
    return writer_.submit<std::vector<std::int64_t>>(
        [this, now](Db& db) -> Result<std::vector<std::int64_t>> { return writes_.do_expire(db, now); });
  }

  asio::awaitable<Result<void>> set_waiting_reason(std::int64_t id, std::string reason) override {
    return writer_.submit<void>([this, id, reason = std::move(reason)](Db& db) -> Result<void> {
      auto st = db.prepare("UPDATE deployments SET waiting_reason = ?, updated_at = ? WHERE id = ? AND waiting_reason != ?");
      st.bind(1, reason).bind(2, now_ms()).bind(3, id).bind(4, reason);
      if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      return {};
    });
  }

  asio::awaitable<Result<void>> record_audit(AuditEntry entry) override {
    return writer_.submit<void>([this, e = std::move(entry)](Db& db) -> Result<void> { return writes_.add_audit(db, e); });
  }

  Result<std::vector<BadVersion>> bad_versions(const std::string& project, const std::string& environment) override {
    std::lock_guard lock(read_mutex_);
    auto st = reader_db_.prepare(
        "SELECT version, sha, marked_at, deployment_id, reason, actor FROM bad_versions WHERE project = ? AND "
        "environment = ? ORDER BY marked_at DESC");
    st.bind(1, project).bind(2, environment);
    std::vector<BadVersion> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW)
      out.push_back({project, environment, st.text(0), st.text(1), st.int64(2), st.int64(3), st.text(4), st.text(5)});
    if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
    return out;
  }

  Result<std::vector<AuditEntry>> audit(const AuditFilter& f) override {
    std::lock_guard lock(read_mutex_);
    // Without a cursor: the newest `limit` entries; with one: the next `limit` after it. Oldest first.
    const bool cursor = f.since_ms > 0 || f.after_id > 0;
    auto st = reader_db_.prepare(
        cursor ? "SELECT id, at, actor, action, project, environment, deployment_id, reason, details FROM audit "
                 "WHERE at >= ? AND id > ? ORDER BY id ASC LIMIT ?"
               : "SELECT * FROM (SELECT id, at, actor, action, project, environment, deployment_id, reason, details "
                 "FROM audit WHERE at >= ? AND id > ? ORDER BY id DESC LIMIT ?) ORDER BY id ASC");
    st.bind(1, f.since_ms).bind(2, f.after_id).bind(3, std::int64_t{f.limit});
    std::vector<AuditEntry> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      AuditEntry e;
      e.id = st.int64(0);
      e.at_ms = st.int64(1);
      e.actor = st.text(2);
      e.action = parse_audit_action(st.text(3)).value_or(AuditAction::transition);
      e.project = st.text(4);
      e.environment = st.text(5);
      e.deployment = st.is_null(6) ? 0 : st.int64(6);
      e.reason = st.text(7);
      e.details = json::parse(st.text(8), nullptr, false);
      if (!e.details.is_object()) e.details = json::object();
      out.push_back(std::move(e));
    }
    if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
    return out;
  }

  Result<std::optional<Deployment>> deployment(std::int64_t id, bool with_history) override {
    std::lock_guard lock(read_mutex_);
    auto st = reader_db_.prepare(std::string("SELECT ") + kDeploymentColumns + " FROM deployments WHERE id = ?");
    st.bind(1, id);
    const int rc = st.step();
    if (rc == SQLITE_DONE) return std::optional<Deployment>();
    if (rc != SQLITE_ROW) return make_error_code(StoreErrc::io_error);
    Deployment d = read_deployment(st);
    if (with_history) {
      auto h = reader_db_.prepare(
          "SELECT at, from_state, to_state, actor, reason FROM history WHERE deployment_id = ? ORDER BY id");
      h.bind(1, id);
      while (h.step() == SQLITE_ROW) {
        HistoryEntry e;
        e.at_ms = h.int64(0);
        if (!h.is_null(1)) e.from = parse_state(h.text(1));
        e.to = parse_state(h.text(2)).value_or(State::failed);
        e.actor = h.text(3);
        e.reason = h.text(4);
        d.history.push_back(std::move(e));
      }
      auto a = reader_db_.prepare("SELECT reviewer, at, comment FROM approvals WHERE deployment_id = ? ORDER BY at");
      a.bind(1, id);
      while (a.step() == SQLITE_ROW) d.approvals.push_back({a.text(0), a.int64(1), a.text(2)});
    }
    return std::optional<Deployment>(std::move(d));
  }

  Result<std::vector<Deployment>> deployments(const DeploymentFilter& f) override {
    std::string sql = std::string("SELECT ") + kDeploymentColumns + " FROM deployments";
    // Waiting and running deployments are a handful among a million finished ones: look them up by
    // state instead of letting SQLite walk the environment's whole history for the ORDER BY.
    if (!f.project.empty() && !f.environment.empty() && !f.states.empty()) sql += " INDEXED BY deployments_by_env_state";
    sql += " WHERE 1=1";
    if (!f.project.empty()) sql += " AND project = ?1";
    if (!f.environment.empty()) sql += " AND environment = ?2";
    if (f.before_id > 0) sql += " AND id < ?3";
    if (!f.states.empty()) {
      const bool unfinished_only = std::all_of(f.states.begin(), f.states.end(), [](State st) { return !is_final(st); });
      if (unfinished_only) sql += " AND " SHIPGATE_UNFINISHED;
      sql += " AND state IN (";
      for (std::size_t i = 0; i < f.states.size(); ++i)
        sql += (i ? ", '" : "'") + std::string(to_string(f.states[i])) + "'";
      sql += ")";
    }
    sql += " ORDER BY id DESC LIMIT ?4";
    std::lock_guard lock(read_mutex_);
    auto st = reader_db_.prepare(sql);
    if (!f.project.empty()) st.bind(1, f.project);
    if (!f.environment.empty()) st.bind(2, f.environment);
    if (f.before_id > 0) st.bind(3, f.before_id);
    st.bind(4, std::int64_t{f.limit});
    std::vector<Deployment> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) out.push_back(read_deployment(st));
    if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
    return out;
  }

  Result<std::optional<Deployment>> next_to_run(const std::string& project, const std::string& environment) override {
    std::lock_guard lock(read_mutex_);
    auto st = reader_db_.prepare(std::string("SELECT ") + kDeploymentColumns +
                                 " FROM deployments WHERE project = ? AND environment = ? AND state IN "
                                 "('running', 'queued') ORDER BY state = 'running' DESC, priority DESC, id ASC LIMIT 1");
    st.bind(1, project).bind(2, environment);
    const int rc = st.step();
    if (rc == SQLITE_DONE) return std::optional<Deployment>();
    if (rc != SQLITE_ROW) return make_error_code(StoreErrc::io_error);
    return std::optional<Deployment>(read_deployment(st));
  }

  Result<std::vector<std::pair<std::string, std::string>>> lanes_with_work() override {
    std::lock_guard lock(read_mutex_);
    auto st = reader_db_.prepare(
        "SELECT DISTINCT project, environment FROM deployments WHERE " SHIPGATE_UNFINISHED
        " AND state IN ('running', 'queued')");
    std::vector<std::pair<std::string, std::string>> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) out.emplace_back(st.text(0), st.text(1));
    if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
    return out;
  }

  Result<std::vector<OutboxItem>> outbox_due(std::int64_t now_ms, int limit) override {
    std::lock_guard lock(read_mutex_);
    // Due rows, oldest first; a GitHub status waits while an earlier one of its deployment is undone,
    // so GitHub sees them in order (and the deployment exists before its first status).
    auto st = reader_db_.prepare(std::string("SELECT ") + kOutboxColumns +
                                 " WHERE o.done_at IS NULL AND o.next_at <= ?1 AND (o.kind != 'github' OR NOT EXISTS ("
                                 "SELECT 1 FROM outbox e WHERE e.deployment_id = o.deployment_id AND e.kind = 'github' "
                                 "AND e.done_at IS NULL AND e.id < o.id)) ORDER BY o.id LIMIT ?2");
    st.bind(1, now_ms).bind(2, std::int64_t{limit});
    return read_outbox(st);
  }

  void record_events(bool on) override { record_events_ = on; }

  asio::awaitable<Result<void>> outbox_expand(std::vector<std::int64_t> event_ids, std::vector<OutboxItem> deliveries) override {
    return writer_.submit<void>([this, event_ids = std::move(event_ids), deliveries = std::move(deliveries)](Db& db) -> Result<void> {
      const auto now = now_ms();
      for (const auto& d : deliveries) {
        auto ins = db.prepare(
            "INSERT INTO outbox (kind, destination, deployment_id, event, payload, next_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)");
        ins.bind(1, to_string(d.kind)).bind(2, d.destination).bind(3, d.deployment).bind(4, d.event).bind(5, d.payload.dump());
        ins.bind(6, now).bind(7, now);
        if (ins.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      }
      for (const auto event_id : event_ids) {
        auto up = db.prepare("UPDATE outbox SET done_at = ?, outcome = 'expanded' WHERE id = ?");
        up.bind(1, now).bind(2, event_id);
        if (up.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      }
      return {};
    });
  }

  asio::awaitable<Result<void>> outbox_record(OutboxAttempt attempt) override {
    return writer_.submit<void>([this, a = std::move(attempt)](Db& db) -> Result<void> {
      const auto now = now_ms();
      auto up = db.prepare(
          "UPDATE outbox SET attempts = attempts + 1, next_at = ?, done_at = ?, outcome = ?, last_error = ? WHERE id = ?");
      up.bind(1, a.next_ms);
      if (a.outcome == OutboxOutcome::pending) up.bind_null(2);
      else up.bind(2, now);
      up.bind(3, to_string(a.outcome)).bind(4, a.error).bind(5, a.id);
      if (up.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      if (a.github_id > 0) {
        auto g = db.prepare("UPDATE deployments SET github_id = ? WHERE id = ?");
        g.bind(1, a.github_id).bind(2, a.deployment);
        if (g.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      }
      return {};
    });
  }

  asio::awaitable<Result<std::int64_t>> outbox_prune(std::int64_t before_ms) override {
    return writer_.submit<std::int64_t>([before_ms](Db& db) -> Result<std::int64_t> {
      auto st = db.prepare("DELETE FROM outbox WHERE done_at IS NOT NULL AND done_at < ?");
      st.bind(1, before_ms);
      if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      return static_cast<std::int64_t>(sqlite3_changes(db.handle()));
    });
  }

  Result<std::set<std::string>> unfinished_config_shas() override {
    std::lock_guard lock(read_mutex_);
    auto st = reader_db_.prepare(
        "SELECT DISTINCT config_sha FROM deployments WHERE " SHIPGATE_UNFINISHED);
    std::set<std::string> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) out.insert(st.text(0));
    if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
    return out;
  }

  Result<std::optional<Deployment>> find_version(const std::string& project, const std::string& version) override {
    std::lock_guard lock(read_mutex_);
    auto st = reader_db_.prepare(std::string("SELECT ") + kDeploymentColumns +
                                 " FROM deployments WHERE project = ?1 AND state = 'succeeded' AND (version = ?2 OR "
                                 "sha = ?2 OR (length(?2) >= 7 AND substr(sha, 1, length(?2)) = ?2)) ORDER BY id DESC LIMIT 1");
    st.bind(1, project).bind(2, version);
    const int rc = st.step();
    if (rc == SQLITE_DONE) return std::optional<Deployment>();
    if (rc != SQLITE_ROW) return make_error_code(StoreErrc::io_error);
    return std::optional<Deployment>(read_deployment(st));
  }

  Result<std::vector<StateCount>> state_counts() override {
    std::lock_guard lock(read_mutex_);
    std::vector<StateCount> out;
    auto finals = reader_db_.prepare("SELECT project, environment, state, n FROM final_counts");
    int rc;
    while ((rc = finals.step()) == SQLITE_ROW)
      out.push_back({finals.text(0), finals.text(1), parse_state(finals.text(2)).value_or(State::failed), finals.int64(3), 0});
    if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
    auto open = reader_db_.prepare(
        "SELECT project, environment, state, count(*), min(created_at) FROM deployments WHERE " SHIPGATE_UNFINISHED
        " GROUP BY project, environment, state");
    while ((rc = open.step()) == SQLITE_ROW)
      out.push_back({open.text(0), open.text(1), parse_state(open.text(2)).value_or(State::queued), open.int64(3),
                     open.int64(4)});
    if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
    return out;
  }

  Result<void> ping() override {
    std::lock_guard lock(read_mutex_);
    auto st = reader_db_.prepare("SELECT 1");
    if (st.step() != SQLITE_ROW) return make_error_code(StoreErrc::io_error);
    return {};
  }

  asio::awaitable<Result<void>> check_writable() override {
    {
      std::lock_guard lock(probe_mutex_);
      if (std::chrono::steady_clock::now() - probed_at_ < std::chrono::seconds(1)) co_return probe_result_;
    }
    auto result = co_await writer_.submit<void>([this](Db& db) -> Result<void> {
      auto st = db.prepare("INSERT INTO health (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at");
      st.bind(1, now_ms());
      if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      return {};
    });
    std::lock_guard lock(probe_mutex_);
    probed_at_ = std::chrono::steady_clock::now();
    probe_result_ = result;
    co_return result;
  }

 private:
  std::int64_t now_ms() const { return epoch_ms(clock_->now()); }

  SqliteStoreOptions options_;
  std::shared_ptr<const Clock> clock_;
  int lock_fd_;
  Db writer_db_;
  Db reader_db_;
  std::mutex read_mutex_;
  GroupCommitWriter writer_{writer_db_, {options_.max_queued_writes, options_.max_batch, options_.on_commit}};
  std::atomic<bool> record_events_{true};
  SqliteWrites writes_{clock_, record_events_};
  std::mutex probe_mutex_;
  std::chrono::steady_clock::time_point probed_at_{};
  Result<void> probe_result_{};
};

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteStoreOptions& options, std::shared_ptr<const Clock> clock) {
  // SQLite's memory statistics take a process-wide mutex on every allocation, and nothing reads them.
  // (Only possible before SQLite initialises; later calls are refused harmlessly.)
  static std::once_flag configured;
  std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  std::error_code fs_ec;
  const auto parent = std::filesystem::path(options.path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, fs_ec);
  // A missing store is created here, 0600 whatever the umask; an empty one is refused unless asked for.
  std::error_code size_ec;
  const auto size = std::filesystem::file_size(options.path, size_ec);
  if (size_ec && size_ec != std::errc::no_such_file_or_directory) {
    spdlog::error("store: cannot read {}: {}", options.path, size_ec.message());
    return make_error_code(StoreErrc::io_error);
  }
  if (!size_ec && size == 0 && !options.init_empty) {
    spdlog::error("store: {} is empty (0 bytes). An empty file where the store should be usually means it was "
                  "truncated or replaced: restore it from a backup, or start once with --init to create a new "
                  "store in it", options.path);
    return make_error_code(StoreErrc::io_error);
  }
  if (size_ec) {
    const int created = ::open(options.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (created < 0 && errno != EEXIST) {
      spdlog::error("store: cannot create {}: {}", options.path, std::strerror(errno));
      return make_error_code(StoreErrc::io_error);
    }
    if (created >= 0) {
      ::fchmod(created, 0600);
      ::close(created);
    }
  }
  const std::string lock_path = options.path + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    spdlog::error("store: cannot open {}: {}", lock_path, std::strerror(errno));
    return make_error_code(StoreErrc::io_error);
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    spdlog::error("store: {} is locked by another shipgate process", options.path);
    ::close(fd);
    return make_error_code(StoreErrc::in_use);
  }
  auto store = std::make_unique<SqliteStore>(options, std::move(clock), fd);
  if (auto err = store->open(); !err.empty()) {
    spdlog::error("store: cannot open {}: {}", options.path, err);
    return make_error_code(StoreErrc::io_error);
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace shipgate::orchestration
