// Several webhooks in one transaction, with a fixed number of statements however many there are.
//
// One ingest is about ten statements and a commit; a replica receiving webhooks faster than they
// commit would spend its time (and the database's) on round trips and per-statement work. So the
// webhooks that arrived while the previous transaction ran are taken together: their deliveries are
// claimed in one statement, their environments locked in one, what the rules need read in three;
// the rules (deployment_rules.hpp) then run here, webhook after webhook, on an in-memory copy of each
// environment's open deployments (locked until commit), exactly as ingest() would one at a time; and
// the rows they produce are written with one statement per table, from JSON arrays. If anything fails
// (a statement, a string PostgreSQL refuses, a deadlock it broke) the transaction is rolled back and
// the caller ingests them one by one.
//
// The planner cannot see how many rows a JSON array holds (it assumes 100), and for a join against a
// large table that makes a sequential scan look cheaper than a dozen index lookups: every array that
// is joined goes through `LIMIT <its length>`, which tells it; and the batch's transaction plans each
// statement for its run (plan_cache_mode), since a plan kept from when a table was small goes on
// scanning it whole as the table grows. The statements are still parsed once per connection.
#include "store/postgres/pg_writes.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "config/notify_event.hpp"
#include "domain/deployment_rules.hpp"
#include "store/images_column.hpp"
#include "store/postgres/pg_batch_rows.hpp"
#include "store/sql_terms.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;
using Params = std::vector<std::optional<std::string>>;

namespace {

// A batch as it goes: its webhooks, which of them this transaction claimed, what was read.
struct Batch {
  const std::vector<const IngestRequest*>& requests;
  std::int64_t now = 0;
  std::vector<IngestResult> out;
  std::map<std::string, std::size_t> first_of;  // delivery key -> index of its first webhook
  std::set<std::string> claimed;
  std::map<Lane, EnvironmentView> view;
  std::vector<std::int64_t> ids;  // for the deployments it creates, in order

  // The webhooks the rules apply to: claimed here, and the first with their key.
  bool applies(std::size_t i) const {
    const auto& key = requests[i]->delivery_key;
    return first_of.at(key) == i && claimed.count(key);
  }
};

std::string count_of(std::size_t n) { return std::to_string(n); }

// A serialised JSON parameter; nullopt when a string is not valid UTF-8 (ingest() one by one then
// reports it as PostgreSQL does).
std::optional<std::string> dumped(const json& j) {
  try {
    return j.dump();
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

void note(const PgError& why) {
  spdlog::debug("store: a batch of webhooks is ingested one by one instead: {}", why.message);
}

// One statement of the batch; nullopt (noted) when it failed.
asio::awaitable<std::optional<PgRows>> run(PgConnection& c, std::string sql, Params params) {
  auto r = co_await c.query(std::move(sql), std::move(params));
  if (!r) {
    note(r.error());
    co_return std::nullopt;
  }
  co_return std::move(*r);
}

// Claims the batch's deliveries in key order (two replicas claiming overlapping batches never wait on
// each other in a circle) and reads the stored answer of those seen before.
asio::awaitable<bool> claim_deliveries(PgConnection& c, Batch& b) {
  json keys = json::array();
  for (std::size_t i = 0; i < b.requests.size(); ++i)
    if (b.first_of.emplace(b.requests[i]->delivery_key, i).second)
      keys.push_back({{"k", b.requests[i]->delivery_key}, {"s", b.requests[i]->source}});
  std::sort(keys.begin(), keys.end(), [](const json& x, const json& y) { return x["k"] < y["k"]; });
  const auto keys_text = dumped(keys);
  if (!keys_text) co_return false;
  const std::string claim =
      "INSERT INTO deliveries (key, received_at, source, status, body) SELECT k, $2::bigint, s, 0, '' "
      "FROM json_to_recordset($1::json) AS t(k text, s text) ON CONFLICT (key) DO NOTHING RETURNING key";
  const Params claim_params{*keys_text, text(b.now)};
  auto claimed = co_await run(c, claim, claim_params);
  if (!claimed) co_return false;
  for (int i = 0; i < claimed->size(); ++i) b.claimed.insert(claimed->text(i, 0));
  if (b.claimed.size() == b.first_of.size()) co_return true;
  // Seen before (committed by an earlier transaction): the stored answer, as ingest() gives it.
  json seen_keys = json::array();
  for (const auto& [key, index] : b.first_of)
    if (!b.claimed.count(key)) seen_keys.push_back(key);
  const std::string seen = "SELECT key, status, body FROM deliveries WHERE key IN "
                           "(SELECT value FROM json_array_elements_text($1::json) LIMIT $2::int)";
  const Params seen_params{seen_keys.dump(), count_of(seen_keys.size())};
  auto stored = co_await run(c, seen, seen_params);
  if (!stored) co_return false;
  for (int i = 0; i < stored->size(); ++i) {
    auto& r = b.out[b.first_of.at(stored->text(i, 0))];
    r.duplicate = true;
    r.response = {static_cast<int>(stored->int64(i, 1)), stored->text(i, 2)};
  }
  co_return true;
}

// The environments the batch's new deployments go to, sorted; whether any rule needs their current
// version; how many deployments it may create.
struct Lanes {
  std::set<Lane> lanes;
  bool semver_rules = false;
  std::size_t wanted = 0;
};

Lanes lanes_of(const Batch& b) {
  Lanes out;
  for (std::size_t i = 0; i < b.requests.size(); ++i) {
    if (!b.applies(i)) continue;
    for (const auto& nd : b.requests[i]->deployments) {
      out.lanes.insert({nd.project, nd.environment});
      out.semver_rules = out.semver_rules || ingest_reads(nd).current_version;
      ++out.wanted;
    }
  }
  return out;
}

// The lanes as a JSON record set: `$1` of the reads below, with their count as `$2`.
constexpr const char* kLaneSet = "(SELECT * FROM json_to_recordset($1::json) AS l(p text, e text) LIMIT $2::int) l";

asio::awaitable<bool> read_bad_marks(PgConnection& c, Batch& b, const Params& lane_params) {
  static const std::string sql = std::string("SELECT b.project, b.environment, b.version, b.sha, b.deployment_id, "
                                             "b.reason FROM ") + kLaneSet +
                                 " JOIN bad_versions b ON b.project = l.p AND b.environment = l.e";
  auto bad = co_await run(c, sql, lane_params);
  if (!bad) co_return false;
  for (int i = 0; i < bad->size(); ++i)
    b.view[{bad->text(i, 0), bad->text(i, 1)}].bad.push_back(
        {bad->text(i, 0), bad->text(i, 1), bad->text(i, 2), bad->text(i, 3), 0, bad->int64(i, 4), bad->text(i, 5), {}});
  co_return true;
}

// Locked until commit: the rules decide on them across the whole batch, so a replica starting one
// meanwhile waits (a few milliseconds) rather than making the decisions stale.
asio::awaitable<bool> read_unfinished(PgConnection& c, Batch& b, const Params& lane_params) {
  static const std::string sql =
      std::string("SELECT d.project, d.environment, d.id, d.state, d.version, d.sha, d.images, d.trigger FROM ") +
      kLaneSet + " JOIN deployments d ON d.project = l.p AND d.environment = l.e AND d." + unfinished_term() +
      " ORDER BY d.id FOR UPDATE OF d";
  auto open = co_await run(c, sql, lane_params);
  if (!open) co_return false;
  for (int i = 0; i < open->size(); ++i)
    b.view[{open->text(i, 0), open->text(i, 1)}].open.push_back(
        {open->int64(i, 2), parse_state(open->text(i, 3)).value_or(State::queued), open->text(i, 4), open->text(i, 5),
         parse_images(open->text(i, 6)), parse_trigger(open->text(i, 7)).value_or(Trigger::push)});
  co_return true;
}

asio::awaitable<bool> read_current_versions(PgConnection& c, Batch& b, const Params& lane_params) {
  static const std::string sql = std::string("SELECT l.p, l.e, d.version FROM ") + kLaneSet +
                                 " CROSS JOIN LATERAL (SELECT version FROM deployments WHERE project = l.p AND "
                                 "environment = l.e AND " + current_version_term() + " LIMIT 1) d";
  auto current = co_await run(c, sql, lane_params);
  if (!current) co_return false;
  for (int i = 0; i < current->size(); ++i) b.view[{current->text(i, 0), current->text(i, 1)}].current = current->text(i, 2);
  co_return true;
}

// Locks the environments the new deployments go to, in one order on every replica, reads what the
// rules need about them and takes ids for the deployments the batch may create.
asio::awaitable<bool> read_lanes(PgConnection& c, Batch& b) {
  const Lanes lanes = lanes_of(b);
  if (lanes.lanes.empty()) co_return true;
  json lock_keys = json::array(), lane_rows = json::array();
  for (const auto& [p, e] : lanes.lanes) {
    lock_keys.push_back(p + "\n" + e);
    lane_rows.push_back({{"p", p}, {"e", e}});
  }
  const auto lanes_text = dumped(lane_rows);
  const auto lock_text = dumped(lock_keys);
  if (!lanes_text || !lock_text) co_return false;
  // json_array_elements_text yields in array order, and the set is sorted.
  const std::string lock = "SELECT count(pg_advisory_xact_lock(hashtextextended(value, 0))) "
                           "FROM json_array_elements_text($1::json)";
  const Params lock_params{*lock_text};
  if (!co_await run(c, lock, lock_params)) co_return false;
  const Params lane_params{*lanes_text, count_of(lanes.lanes.size())};
  if (!co_await read_bad_marks(c, b, lane_params) || !co_await read_unfinished(c, b, lane_params)) co_return false;
  if (lanes.semver_rules && !co_await read_current_versions(c, b, lane_params)) co_return false;
  // Ids for every deployment the batch may create, in one statement; those it does not need are gaps
  // in the sequence, as a rolled-back insert leaves.
  const std::string ids_sql = "SELECT nextval(pg_get_serial_sequence('deployments', 'id')) FROM generate_series(1, $1::int)";
  const Params ids_sql_params{count_of(lanes.wanted)};
  auto taken = co_await run(c, ids_sql, ids_sql_params);
  if (!taken) co_return false;
  for (int i = 0; i < taken->size(); ++i) b.ids.push_back(taken->int64(i, 0));
  co_return true;
}

// One webhook's marks, deployments and audit entries, decided on the lanes as the batch has left them.
void apply_request(Batch& b, std::size_t i, std::size_t& next_id, RowWriter& w) {
  const IngestRequest& req = *b.requests[i];
  IngestResult& result = b.out[i];
  for (const auto& mark : req.mark_bad) {
    w.mark(mark);
    record_in_view(b.view[{mark.project, mark.environment}], mark);
  }
  for (const auto& nd : req.deployments) {
    auto& here = b.view[{nd.project, nd.environment}];
    const IngestPlan plan = plan_ingest(nd, here);
    IngestedDeployment created = ingested(nd, plan);
    if (plan.kind == IngestKind::skip) w.audit(plan.skipped_audit(nd, b.now));
    if (plan.kind == IngestKind::insert) {
      created.id = b.ids.at(next_id++);
      w.insert(created.id, nd, plan, req.delivery_key);
      for (const auto& old : plan.superseded) created.superseded.push_back(old.id);
      record_in_view(here, nd, plan, created.id);
    }
    result.deployments.push_back(std::move(created));
  }
  for (auto e : req.audit) {
    if (e.deployment == 0 && !result.deployments.empty()) e.deployment = result.deployments.front().id;
    w.audit(e);
  }
  result.response = req.respond ? req.respond(result.deployments) : StoredResponse{202, "{}"};
  w.answer(req.delivery_key, result.response);
}

// The rules, webhook after webhook, as ingest() applies them, on the lanes as read: the rows to write
// and each webhook's outcome (in `b.out`).
Rows apply_rules(Batch& b, bool record_events) {
  RowWriter w(b.now, record_events);
  std::size_t next_id = 0;
  for (std::size_t i = 0; i < b.requests.size(); ++i)
    if (b.applies(i)) apply_request(b, i, next_id, w);
  return std::move(w.rows);
}

// Writes the rows, one statement per table; false when one failed (noted) or a deployment to supersede
// was not in the state read.
asio::awaitable<bool> write_rows(PgConnection& c, const Rows& rows, std::int64_t now) {
  json finals = json::array();
  for (const auto& [key, n] : rows.finals) finals.push_back({{"p", std::get<0>(key)}, {"e", std::get<1>(key)}, {"s", std::get<2>(key)}, {"n", n}});
  json wake = json::array();
  for (const auto& lane : rows.wake) wake.push_back(lane);
  const auto marks = dumped(rows.marks), deployments = dumped(rows.deployments), supersede = dumped(rows.supersede),
             history = dumped(rows.history), audit = dumped(rows.audit), events = dumped(rows.events),
             finals_text = dumped(finals), wake_text = dumped(wake), answers = dumped(rows.answers);
  if (!marks || !deployments || !supersede || !history || !audit || !events || !finals_text || !wake_text || !answers) {
    co_return false;
  }
  std::vector<std::pair<std::string, Params>> writes;
  if (!rows.marks.empty())
    writes.push_back({"INSERT INTO bad_versions (project, environment, version, sha, marked_at, deployment_id, reason, actor) "
                      "SELECT p, e, v, s, $2::bigint, d, r, a FROM json_to_recordset($1::json) AS m(p text, e text, v text, "
                      "s text, d bigint, r text, a text) ON CONFLICT (project, environment, version) DO UPDATE SET "
                      "sha = EXCLUDED.sha, marked_at = EXCLUDED.marked_at, deployment_id = EXCLUDED.deployment_id, "
                      "reason = EXCLUDED.reason, actor = EXCLUDED.actor",
                      {*marks, text(now)}});
  if (!rows.deployments.empty())
    writes.push_back({"INSERT INTO deployments (id, project, environment, state, version, sha, ref, images, trigger, actor, "
                      "delivery, created_at, updated_at, priority, policy, expires_at, config_sha, config_commit, committed_at, result) "
                      "SELECT id, p, e, st, v, s, rf, im, t, a, dl, $2::bigint, $2::bigint, pr, po, x, cs, cc, ca, rs "
                      "FROM json_to_recordset($1::json) AS n(id bigint, p text, e text, st text, v text, s text, rf text, "
                      "im text, t text, a text, dl text, pr integer, po text, x bigint, cs text, cc text, ca bigint, rs text)",
                      {*deployments, text(now)}});
  for (auto& [sql, params] : writes)
    if (!co_await run(c, sql, params)) co_return false;
  if (rows.superseding > 0) {
    // Only from the state each was read in: a replica may have started one since, and a running
    // deployment is never superseded. Any surprise and the batch is redone one by one.
    const std::string sql = "UPDATE deployments d SET state = 'superseded', updated_at = $2::bigint, "
                            "finished_at = $2::bigint, message = u.m FROM (SELECT * FROM json_to_recordset($1::json) "
                            "AS u(id bigint, st text, m text) LIMIT $3::int) u WHERE d.id = u.id AND d.state = u.st";
    const Params params{*supersede, text(now), count_of(rows.superseding)};
    auto updated = co_await run(c, sql, params);
    if (!updated || updated->affected() != static_cast<std::int64_t>(rows.superseding)) co_return false;
  }
  const std::string side =
      "WITH h AS (INSERT INTO history (deployment_id, at, from_state, to_state, actor, reason) "
      "SELECT d, $6::bigint, f, t, a, r FROM json_to_recordset($1::json) AS x(d bigint, f text, t text, a text, r text)), "
      "a AS (INSERT INTO audit (at, actor, action, project, environment, deployment_id, reason, details) "
      "SELECT at, a, x, p, e, d, r, j FROM json_to_recordset($2::json) AS y(at bigint, a text, x text, p text, e text, "
      "d bigint, r text, j text)), "
      "f AS (INSERT INTO final_counts (project, environment, state, n) SELECT p, e, s, n FROM json_to_recordset($3::json) "
      "AS z(p text, e text, s text, n bigint) ON CONFLICT (project, environment, state) DO UPDATE SET "
      "n = final_counts.n + EXCLUDED.n), "
      "o AS (INSERT INTO outbox (kind, deployment_id, event, next_at, created_at) SELECT 'event', d, v, $6::bigint, "
      "$6::bigint FROM json_to_recordset($4::json) AS w(d bigint, v text)), "
      "q AS (UPDATE deliveries SET status = k.s, body = k.b FROM (SELECT * FROM json_to_recordset($7::json) "
      "AS k(k text, s integer, b text) LIMIT $8::int) k "
      "WHERE deliveries.key = k.k) "
      "SELECT count(pg_notify('" SHIPGATE_WORK_CHANNEL "', value)) FROM json_array_elements_text($5::json)";
  const Params side_params{*history, *audit, *finals_text, *events, *wake_text, text(now), *answers,
                                              count_of(rows.answers.size())};
  auto written = co_await run(c, side, side_params);
  co_return written.has_value();
}

}  // namespace

asio::awaitable<std::optional<std::vector<IngestResult>>> PgWrites::ingest_batch(
    PgConnection& c, std::vector<const IngestRequest*> requests) {
  Batch b{requests, epoch_ms(clock_->now()), std::vector<IngestResult>(requests.size()), {}, {}, {}, {}};
  const std::string begin = "BEGIN; SET LOCAL plan_cache_mode = force_custom_plan";
  if (auto begun = co_await c.execute(begin); !begun) co_return std::nullopt;
  bool ok = co_await claim_deliveries(c, b);
  ok = ok && co_await read_lanes(c, b);
  std::optional<Rows> rows;
  if (ok) {
    try {
      rows = apply_rules(b, record_events_);
    } catch (const json::exception&) {
      // A string that is not UTF-8 (details, images): ingest() one by one reports it for its webhook.
    }
    ok = rows && co_await write_rows(c, *rows, b.now);
  }
  if (!ok) {
    co_await c.roll_back();
    co_return std::nullopt;
  }
  // COMMIT returns once the commit is durable (synchronous_commit on): only then is a 2xx answered.
  if (auto committed = co_await c.execute("COMMIT"); !committed) co_return std::nullopt;

  // A key that came twice in the batch: the second gets the first's answer, as a redelivery would.
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto first = b.first_of.at(requests[i]->delivery_key);
    if (first == i) continue;
    b.out[i].duplicate = true;
    b.out[i].response = b.out[first].response;
  }
  co_return std::move(b.out);
}

}  // namespace shipgate::orchestration
