#include "store/postgres/pg_store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <mutex>

#include <spdlog/spdlog.h>

#include "store/postgres/pg_lanes.hpp"
#include "store/postgres/pg_pool.hpp"
#include "store/postgres/pg_reads.hpp"
#include "store/postgres/pg_ingest_queue.hpp"
#include "store/postgres/pg_replicas.hpp"
#include "store/postgres/pg_drift.hpp"
#include "store/postgres/pg_sessions.hpp"
#include "store/postgres/pg_schedules.hpp"
#include "store/postgres/pg_schema.hpp"
#include "store/postgres/pg_writes.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;
using Params = std::vector<std::optional<std::string>>;

namespace {

template <class T>
Result<T> store_error(const PgError& e) {
  return Result<T>(boost::system::in_place_error, pg_store_error(e));
}

// What the NOTIFY listener shares with the store.
struct Listener {
  std::string conninfo;
  Millis connect_timeout{3'000};
  std::atomic<bool> closed{false};
  std::mutex mutex;
  std::function<void(const std::string&, const std::string&)> on_work;

  // A payload "<project>\n<environment>" to the dispatcher.
  void wake(const std::string& payload) {
    const auto cut = payload.find('\n');
    if (cut == std::string::npos) return;
    std::lock_guard lock(mutex);
    if (on_work) on_work(payload.substr(0, cut), payload.substr(cut + 1));
  }
};

class PgStore final : public Store {
 public:
  PgStore(asio::any_io_executor executor, PgStoreOptions options, std::shared_ptr<const Clock> clock)
      : strand_(asio::make_strand(executor)),
        options_(std::move(options)),
        pool_(std::make_shared<PgPool>(strand_, options_.conninfo, options_.pool_size, options_.connect_timeout,
                                       options_.statement_timeout)),
        writes_(std::move(clock), true),
        ingests_(strand_, pool_, writes_) {}

  ~PgStore() override { close(); }

  void start() {
    listener_ = std::make_shared<Listener>();
    listener_->conninfo = options_.conninfo;
    listener_->connect_timeout = options_.connect_timeout;
    asio::co_spawn(strand_, listen(listener_), asio::detached);
  }

  // Every method hands its work to run(): on the store's strand (the pool is not shared between
  // threads) with a borrowed connection. Not coroutines themselves: the lambda, with the request it
  // captured, lives in run()'s frame until the work is done.
  asio::awaitable<Result<IngestResult>> ingest(IngestRequest request) override {
    if (closed_) co_return Result<IngestResult>(boost::system::in_place_error, make_error_code(StoreErrc::closed));
    auto queued = ingests_.submit(std::move(request));
    co_return co_await asio::co_spawn(strand_, std::move(queued), asio::use_awaitable);
  }
  asio::awaitable<Result<TransitionOutcome>> transition(TransitionRequest request) override {
    auto lease = lease_of(request.lane);
    return run<TransitionOutcome>([this, req = std::move(request), lease = std::move(lease)](PgConnection& c) {
      return writes_.transition(c, req, lease ? &*lease : nullptr);
    });
  }
  asio::awaitable<Result<void>> record_result(std::int64_t id, json result, std::optional<LaneHold> lane) override {
    return run<void>([this, id, r = std::move(result), lease = lease_of(lane)](PgConnection& c) {
      return fenced_result(c, id, r, lease);
    });
  }
  asio::awaitable<Result<ApprovalOutcome>> approve(ApprovalRequest request) override {
    return run<ApprovalOutcome>([this, req = std::move(request)](PgConnection& c) { return writes_.approve(c, req); });
  }
  asio::awaitable<Result<std::vector<std::int64_t>>> expire_due(std::int64_t now_ms) override {
    return run<std::vector<std::int64_t>>([this, now_ms](PgConnection& c) { return writes_.expire_due(c, now_ms); });
  }
  asio::awaitable<Result<void>> set_waiting_reason(std::int64_t id, std::string reason) override {
    return run<void>([this, id, r = std::move(reason)](PgConnection& c) { return writes_.set_waiting_reason(c, id, r); });
  }
  asio::awaitable<Result<void>> record_audit(AuditEntry entry) override {
    return run<void>([this, e = std::move(entry)](PgConnection& c) { return writes_.record_audit(c, e); });
  }
  void record_events(bool on) override { writes_.record_events(on); }
  asio::awaitable<Result<void>> outbox_expand(std::vector<std::int64_t> event_ids, std::vector<OutboxItem> deliveries) override {
    return run<void>([this, ids = std::move(event_ids), d = std::move(deliveries)](PgConnection& c) {
      return writes_.outbox_expand(c, ids, d);
    });
  }
  asio::awaitable<Result<void>> outbox_record(OutboxAttempt attempt) override {
    return run<void>([this, a = std::move(attempt)](PgConnection& c) { return writes_.outbox_record(c, a); });
  }
  asio::awaitable<Result<std::int64_t>> outbox_prune(std::int64_t before_ms) override {
    return run<std::int64_t>([this, before_ms](PgConnection& c) { return writes_.outbox_prune(c, before_ms); });
  }
  asio::awaitable<Result<std::vector<OutboxItem>>> outbox_due(std::int64_t now_ms, int limit) override {
    return run<std::vector<OutboxItem>>([now_ms, limit](PgConnection& c) { return pg_reads::outbox_due(c, now_ms, limit); });
  }

  asio::awaitable<Result<std::optional<Deployment>>> deployment(std::int64_t id, bool with_history) override {
    return run<std::optional<Deployment>>([id, with_history](PgConnection& c) { return pg_reads::deployment(c, id, with_history); });
  }
  asio::awaitable<Result<std::vector<Deployment>>> deployments(DeploymentFilter filter) override {
    return run<std::vector<Deployment>>([f = std::move(filter)](PgConnection& c) { return pg_reads::deployments(c, f); });
  }
  asio::awaitable<Result<std::optional<Deployment>>> next_to_run(std::string project, std::string environment) override {
    return run<std::optional<Deployment>>([p = std::move(project), e = std::move(environment)](PgConnection& c) {
      return pg_reads::next_to_run(c, p, e);
    });
  }
  asio::awaitable<Result<std::vector<std::pair<std::string, std::string>>>> lanes_with_work() override {
    return run<std::vector<std::pair<std::string, std::string>>>([](PgConnection& c) { return pg_reads::lanes_with_work(c); });
  }
  asio::awaitable<Result<std::set<std::string>>> unfinished_config_shas() override {
    return run<std::set<std::string>>([](PgConnection& c) { return pg_reads::unfinished_config_shas(c); });
  }
  asio::awaitable<Result<std::vector<StateCount>>> state_counts() override {
    return run<std::vector<StateCount>>([](PgConnection& c) { return pg_reads::state_counts(c); });
  }
  asio::awaitable<Result<std::optional<Deployment>>> find_version(std::string project, std::string version) override {
    return run<std::optional<Deployment>>([p = std::move(project), v = std::move(version)](PgConnection& c) {
      return pg_reads::find_version(c, p, v);
    });
  }
  asio::awaitable<Result<std::vector<BadVersion>>> bad_versions(std::string project, std::string environment) override {
    return run<std::vector<BadVersion>>([p = std::move(project), e = std::move(environment)](PgConnection& c) {
      return pg_reads::bad_versions(c, p, e);
    });
  }
  asio::awaitable<Result<std::vector<AuditEntry>>> audit(AuditFilter filter) override {
    return run<std::vector<AuditEntry>>([filter](PgConnection& c) { return pg_reads::audit(c, filter); });
  }
  asio::awaitable<Result<void>> ping() override {
    return run<void>([](PgConnection& c) { return pg_reads::ping(c); });
  }
  // A committed write: the database accepts writes (not read-only, not out of space) right now.
  asio::awaitable<Result<void>> check_writable() override {
    return run<void>([this](PgConnection& c) { return probe_write(c); });
  }

  asio::awaitable<Result<std::optional<LaneHold>>> claim_lane(std::string project, std::string environment) override {
    return run<std::optional<LaneHold>>([this, p = std::move(project), e = std::move(environment)](PgConnection& c) {
      return claim(c, p, e);
    });
  }
  asio::awaitable<Result<bool>> renew_lane(LaneHold hold) override {
    return run<bool>([this, lease = *lease_of(hold)](PgConnection& c) { return check(renew_lane_of(c, lease)); });
  }
  asio::awaitable<Result<void>> release_lane(LaneHold hold) override {
    return run<void>([this, lease = *lease_of(hold)](PgConnection& c) { return release(c, lease); });
  }
  bool shared() const override { return true; }
  asio::awaitable<Result<void>> record_replica(ReplicaSeen self) override {
    return run<void>([r = std::move(self)](PgConnection& c) { return pg_replicas::record_replica(c, r); });
  }
  asio::awaitable<Result<std::vector<ReplicaSeen>>> replicas() override {
    return run<std::vector<ReplicaSeen>>([](PgConnection& c) { return pg_replicas::replicas(c); });
  }
  asio::awaitable<Result<std::vector<ScheduleRun>>> schedule_runs() override {
    return run<std::vector<ScheduleRun>>([](PgConnection& c) { return pg_schedules::runs(c); });
  }
  asio::awaitable<Result<bool>> claim_schedule_run(ScheduleRun r, std::optional<std::int64_t> seen) override {
    return run<bool>([r = std::move(r), seen](PgConnection& c) { return pg_schedules::claim(c, r, seen); });
  }
  asio::awaitable<Result<void>> finish_schedule_run(ScheduleRun r, AuditEntry audit) override {
    return run<void>([this, r = std::move(r), a = std::move(audit)](PgConnection& c) {
      return pg_schedules::finish(c, r, a, writes_.records_events());
    });
  }
  asio::awaitable<Result<std::vector<DriftState>>> drift_states() override {
    return run<std::vector<DriftState>>([](PgConnection& c) { return pg_drift::states(c); });
  }
  asio::awaitable<Result<void>> record_drift(DriftRecord r) override {
    return run<void>([this, r = std::move(r)](PgConnection& c) { return pg_drift::record(c, r, writes_.records_events()); });
  }
  asio::awaitable<Result<void>> open_session(WebSession session) override {
    return run<void>([s = std::move(session)](PgConnection& c) { return pg_sessions::open(c, s); });
  }
  asio::awaitable<Result<std::optional<WebSession>>> find_session(std::string id_sha256, std::int64_t now_ms) override {
    return run<std::optional<WebSession>>([id = std::move(id_sha256), now_ms](PgConnection& c) { return pg_sessions::find(c, id, now_ms); });
  }
  asio::awaitable<Result<void>> close_session(std::string id_sha256) override {
    return run<void>([id = std::move(id_sha256)](PgConnection& c) { return pg_sessions::close(c, id); });
  }
  asio::awaitable<Result<void>> record_config(std::string sha256, std::string source) override {
    return run<void>([sha = std::move(sha256), text = std::move(source)](PgConnection& c) {
      return pg_replicas::record_config(c, sha, text);
    });
  }
  asio::awaitable<Result<std::optional<std::string>>> config_source(std::string sha256) override {
    return run<std::optional<std::string>>([sha = std::move(sha256)](PgConnection& c) { return pg_replicas::config_source(c, sha); });
  }
  void on_work(std::function<void(const std::string&, const std::string&)> wake) override {
    std::lock_guard lock(listener_->mutex);
    listener_->on_work = std::move(wake);
  }
  void close() override {
    closed_ = true;
    if (listener_) listener_->closed = true;
  }

 private:
  template <class T, class Work>
  asio::awaitable<Result<T>> with_connection(Work work) {
    auto lease = co_await pool_->acquire();
    if (!lease) co_return store_error<T>(lease.error());
    co_return co_await work(**lease);
  }

  template <class T, class Work>
  asio::awaitable<Result<T>> run(Work work) {
    if (closed_) co_return Result<T>(boost::system::in_place_error, make_error_code(StoreErrc::closed));
    auto task = with_connection<T>(std::move(work));
    co_return co_await asio::co_spawn(strand_, std::move(task), asio::use_awaitable);
  }

  std::optional<LaneLease> lease_of(const std::optional<LaneHold>& hold) const {
    if (!hold) return std::nullopt;
    return LaneLease{hold->project, hold->environment, options_.replica, hold->fence};
  }

  asio::awaitable<Result<void>> fenced_result(PgConnection& c, std::int64_t id, const json& result,
                                              const std::optional<LaneLease>& lease) {
    auto written = co_await writes_.record_result(c, id, result, lease ? &*lease : nullptr);
    if (!written) co_return written.error();
    if (!*written && lease) co_return make_error_code(StoreErrc::lane_lost);
    co_return Result<void>();
  }

  asio::awaitable<Result<std::optional<LaneHold>>> claim(PgConnection& c, const std::string& project,
                                                         const std::string& environment) {
    auto claimed = co_await claim_lane_of(c, project, environment);
    if (!claimed) co_return store_error<std::optional<LaneHold>>(claimed.error());
    if (!*claimed) co_return std::optional<LaneHold>();
    co_return std::optional<LaneHold>(LaneHold{project, environment, (*claimed)->fence});
  }
  asio::awaitable<LaneClaim> claim_lane_of(PgConnection& c, const std::string& project, const std::string& environment) {
    return orchestration::claim_lane(c, project, environment, options_.replica, options_.lease);
  }
  asio::awaitable<LaneCheck> renew_lane_of(PgConnection& c, const LaneLease& lease) {
    return orchestration::renew_lane(c, lease, options_.lease);
  }
  static asio::awaitable<Result<bool>> check(asio::awaitable<LaneCheck> pending) {
    auto r = co_await std::move(pending);
    if (!r) co_return store_error<bool>(r.error());
    co_return *r;
  }
  static asio::awaitable<Result<void>> release(PgConnection& c, const LaneLease& lease) {
    auto r = co_await orchestration::release_lane(c, lease);
    if (!r) co_return store_error<void>(r.error());
    co_return Result<void>();
  }
  static asio::awaitable<Result<void>> probe_write(PgConnection& c) {
    const std::string sql = "INSERT INTO health (id, at) VALUES (1, (extract(epoch from now()) * 1000)::bigint) "
                            "ON CONFLICT (id) DO UPDATE SET at = EXCLUDED.at";
    const Params none;
    auto r = co_await c.query(sql, none);
    if (!r) co_return store_error<void>(r.error());
    co_return Result<void>();
  }

  // A connection of its own that LISTENs for the other replicas' new work; reconnects when it breaks
  // (the poll covers what was said meanwhile). It shares only `l` with the store, so it may outlive it
  // by one wait.
  static asio::awaitable<void> listen(std::shared_ptr<Listener> l) {
    const auto executor = co_await asio::this_coro::executor;
    asio::steady_timer pause(executor);
    while (!l->closed) {
      auto connected = co_await PgConnection::connect(executor, l->conninfo, l->connect_timeout);
      if (connected) {
        PgConnection& c = **connected;
        const std::string sql = "LISTEN " SHIPGATE_WORK_CHANNEL;
        const Params none;
        auto listening = co_await c.query(sql, none);
        while (listening && !l->closed && c.ok()) {
          auto said = co_await c.notifications(Millis(500));
          if (!said) break;
          for (const auto& n : *said) l->wake(n.payload);
        }
      }
      if (l->closed) break;
      pause.expires_after(std::chrono::seconds(1));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  asio::strand<asio::any_io_executor> strand_;
  PgStoreOptions options_;
  std::shared_ptr<PgPool> pool_;
  PgWrites writes_;
  PgIngestQueue ingests_;
  std::atomic<bool> closed_{false};
  std::shared_ptr<Listener> listener_;
};

// The checks and migrations before the store serves: on a private io_context, so start-up needs no
// running executor.
std::string prepare_database(const PgStoreOptions& options) {
  asio::io_context ioc;
  std::string error;
  auto prepare = [&]() -> asio::awaitable<void> {
    auto connected = co_await PgConnection::connect(ioc.get_executor(), options.conninfo, options.connect_timeout);
    if (!connected) {
      error = "cannot connect: " + connected.error().message;
      co_return;
    }
    PgConnection& c = **connected;
    const std::string show = "SHOW synchronous_commit";
    const Params none;
    auto setting = co_await c.query(show, none);
    if (!setting) {
      error = setting.error().message;
      co_return;
    }
    // "off" would let a 2xx stand for a commit that a crash of the server loses.
    if (setting->text(0, 0) == "off") {
      error = "synchronous_commit is off for this role or database; shipgate answers 2xx only for durable commits";
      co_return;
    }
    error = co_await migrate_pg(c);
  };
  asio::co_spawn(ioc, prepare(), asio::detached);
  ioc.run();
  return error;
}

}  // namespace

boost::system::result<std::unique_ptr<Store>, std::string> open_pg_store(asio::any_io_executor executor,
                                                                         const PgStoreOptions& options,
                                                                         std::shared_ptr<const Clock> clock) {
  if (auto error = prepare_database(options); !error.empty()) return error;
  auto store = std::make_unique<PgStore>(std::move(executor), options, std::move(clock));
  store->start();
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace shipgate::orchestration
