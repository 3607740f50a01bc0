#include "store/postgres/pg_connection.hpp"

#include "store/postgres/pg_library.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <unordered_map>

namespace shipgate::orchestration {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using Steady = std::chrono::steady_clock;
using WaitType = asio::posix::stream_descriptor::wait_type;

namespace {

std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Connections and results exist only once libpq was opened (connect checks it first).
const Libpq& pq() { return libpq(); }

}  // namespace

// ---- rows

PgRows::PgRows(pg_result* r) : r_(r) {}
PgRows::~PgRows() {
  if (r_) pq().PQclear(r_);
}
PgRows::PgRows(PgRows&& other) noexcept : r_(std::exchange(other.r_, nullptr)) {}
PgRows& PgRows::operator=(PgRows&& other) noexcept {
  if (this != &other) {
    if (r_) pq().PQclear(r_);
    r_ = std::exchange(other.r_, nullptr);
  }
  return *this;
}
int PgRows::size() const { return r_ ? pq().PQntuples(r_) : 0; }
bool PgRows::is_null(int row, int col) const { return !r_ || pq().PQgetisnull(r_, row, col); }
std::string PgRows::text(int row, int col) const {
  if (is_null(row, col)) return {};
  return std::string(pq().PQgetvalue(r_, row, col), static_cast<std::size_t>(pq().PQgetlength(r_, row, col)));
}
std::int64_t PgRows::int64(int row, int col) const {
  return is_null(row, col) ? 0 : std::strtoll(pq().PQgetvalue(r_, row, col), nullptr, 10);
}
std::int64_t PgRows::affected() const {
  const char* n = r_ ? pq().PQcmdTuples(r_) : "";
  return *n ? std::strtoll(n, nullptr, 10) : 0;
}

// ---- connection

struct PgConnection::Impl {
  explicit Impl(asio::any_io_executor ex) : socket(ex) {}
  ~Impl() {
    boost::system::error_code ignored;
    socket.close(ignored);  // our duplicate; libpq closes its own descriptor
    if (conn) pq().PQfinish(conn);
  }

  // Follows libpq's socket, which may change while connecting (several hosts or addresses), through a
  // duplicate descriptor of our own. libpq closes its socket by itself (a refused attempt, the next
  // address); had the reactor been given libpq's descriptor, it would later deregister that number
  // from epoll when it may already belong to a connection another thread just accepted, leaving that
  // client unanswered. A duplicate is closed by us alone.
  bool track_socket() {
    const int fd = pq().PQsocket(conn);
    if (fd < 0) return false;
    struct stat theirs {}, ours {};
    if (::fstat(fd, &theirs) != 0) return false;
    if (socket.is_open() && ::fstat(socket.native_handle(), &ours) == 0 && ours.st_ino == theirs.st_ino &&
        ours.st_dev == theirs.st_dev)
      return true;
    boost::system::error_code ec;
    socket.close(ec);
    const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) return false;
    socket.assign(own, ec);
    if (ec) ::close(own);
    return !ec;
  }

  // Waits until the socket is ready for `what` or the deadline passes; false on timeout or error.
  asio::awaitable<bool> wait(WaitType what, Steady::time_point deadline) {
    asio::steady_timer timer(socket.get_executor(), deadline);
    auto ready = socket.async_wait(what, asio::as_tuple(asio::use_awaitable));
    auto expired = timer.async_wait(asio::as_tuple(asio::use_awaitable));
    auto first = std::move(ready) || std::move(expired);
    const auto outcome = co_await std::move(first);
    co_return outcome.index() == 0 && !std::get<0>(std::get<0>(outcome));
  }

  PgError error(std::string prefix = {}) {
    const bool lost = !conn || pq().PQstatus(conn) == CONNECTION_BAD;
    if (lost) broken = true;
    return PgError{prefix + trimmed(conn ? pq().PQerrorMessage(conn) : "out of memory"), {}, lost};
  }

  PgError timed_out(const char* what) {
    broken = true;  // mid-exchange: the protocol state is unknown, so the connection is dropped
    return PgError{std::string("PostgreSQL ") + what + " timed out", {}, true};
  }

  pg_conn* conn = nullptr;
  asio::posix::stream_descriptor socket;
  bool broken = false;
  // Statements this session prepared, by their text: the store's statements are a fixed set, and a
  // prepared one skips the server's parse and planning on every later run.
  std::unordered_map<std::string, std::string> prepared;
};

namespace {
// Enough for every statement the store runs; beyond it (text built from unusual filters) statements
// run unprepared rather than growing the server's per-session cache without bound.
constexpr std::size_t kMaxPrepared = 256;
}  // namespace

PgConnection::PgConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PgConnection::~PgConnection() = default;

bool PgConnection::ok() const { return !impl_->broken && pq().PQstatus(impl_->conn) == CONNECTION_OK; }

bool PgConnection::idle() const { return ok() && pq().PQtransactionStatus(impl_->conn) == PQTRANS_IDLE; }

void PgConnection::discard() { impl_->broken = true; }

asio::awaitable<void> PgConnection::roll_back() {
  if (!ok()) co_return;
  auto rolled_back = co_await execute("ROLLBACK");
  if (!rolled_back) {
    spdlog::warn("PostgreSQL: ROLLBACK failed ({}); the connection is closed instead of reused",
                 rolled_back.error().message);
    discard();
  }
}

asio::awaitable<boost::system::result<std::unique_ptr<PgConnection>, PgError>> PgConnection::connect(
    asio::any_io_executor executor, std::string conninfo, Millis timeout) {
  if (!pq().error.empty()) co_return PgError{"cannot load PostgreSQL's client library: " + pq().error, {}, true};
  auto impl = std::make_unique<Impl>(executor);
  impl->conn = pq().PQconnectStart(conninfo.c_str());
  if (!impl->conn || pq().PQstatus(impl->conn) == CONNECTION_BAD) co_return impl->error("cannot connect to PostgreSQL: ");
  const auto deadline = Steady::now() + timeout;
  // libpq's documented loop: start as if the last poll asked to write.
  PostgresPollingStatusType polled = PGRES_POLLING_WRITING;
  while (polled != PGRES_POLLING_OK) {
    if (polled == PGRES_POLLING_FAILED) co_return impl->error("cannot connect to PostgreSQL: ");
    if (!impl->track_socket()) co_return impl->error("cannot connect to PostgreSQL: ");
    const auto what = polled == PGRES_POLLING_READING ? WaitType::wait_read : WaitType::wait_write;
    if (!co_await impl->wait(what, deadline)) co_return impl->timed_out("connect");
    polled = pq().PQconnectPoll(impl->conn);
  }
  if (pq().PQsetnonblocking(impl->conn, 1) != 0 || !impl->track_socket()) co_return impl->error("cannot connect to PostgreSQL: ");
  // The server's notices ("relation ... already exists, skipping") go to the log at debug level, not
  // raw onto stderr.
  pq().PQsetNoticeProcessor(
      impl->conn, [](void*, const char* message) { spdlog::debug("PostgreSQL: {}", trimmed(message)); }, nullptr);
  co_return std::unique_ptr<PgConnection>(new PgConnection(std::move(impl)));
}

asio::awaitable<PgResult> PgConnection::query(std::string sql, std::vector<std::optional<std::string>> params,
                                              std::optional<Millis> timeout) {
  Impl& c = *impl_;
  if (!ok()) co_return PgError{"PostgreSQL connection is closed", {}, true};
  const auto deadline = Steady::now() + timeout.value_or(timeout_.value_or(Millis(30'000)));
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  const int count = static_cast<int>(values.size());
  auto found = c.prepared.find(sql);
  if (found == c.prepared.end() && c.prepared.size() < kMaxPrepared) {
    std::string name = "s" + std::to_string(c.prepared.size() + 1);
    if (!pq().PQsendPrepare(c.conn, name.c_str(), sql.c_str(), count, nullptr)) co_return c.error();
    auto made = co_await exchange(deadline);
    if (!made) co_return made.error();  // a statement the server refuses is refused here, as unprepared
    found = c.prepared.emplace(sql, std::move(name)).first;
  }
  const bool sent = found != c.prepared.end()
                        ? pq().PQsendQueryPrepared(c.conn, found->second.c_str(), count, values.data(), nullptr, nullptr, 0)
                        : pq().PQsendQueryParams(c.conn, sql.c_str(), count, nullptr, values.data(), nullptr, nullptr, 0);
  if (!sent) co_return c.error();
  co_return co_await exchange(deadline);
}

asio::awaitable<PgResult> PgConnection::execute(std::string script, std::optional<Millis> timeout) {
  Impl& c = *impl_;
  if (!ok()) co_return PgError{"PostgreSQL connection is closed", {}, true};
  const auto deadline = Steady::now() + timeout.value_or(timeout_.value_or(Millis(60'000)));
  if (!pq().PQsendQuery(c.conn, script.c_str())) co_return c.error();
  co_return co_await exchange(deadline);
}

asio::awaitable<PgNotifications> PgConnection::notifications(Millis timeout) {
  Impl& c = *impl_;
  if (!ok()) co_return PgError{"PostgreSQL connection is closed", {}, true};
  const auto deadline = Steady::now() + timeout;
  std::vector<PgNotification> out;
  for (;;) {
    if (!pq().PQconsumeInput(c.conn)) co_return c.error();
    while (PGnotify* n = pq().PQnotifies(c.conn)) {
      out.push_back({n->relname ? n->relname : "", n->extra ? n->extra : ""});
      pq().PQfreemem(n);
    }
    if (!out.empty() || Steady::now() >= deadline) co_return out;
    // A timeout here is no fault (nothing was said); the loop looks once more and ends empty.
    const bool ready = co_await c.wait(WaitType::wait_read, deadline);
    if (!ready && pq().PQstatus(c.conn) == CONNECTION_BAD) co_return c.error();
  }
}

asio::awaitable<PgResult> PgConnection::exchange(Steady::time_point deadline) {
  Impl& c = *impl_;
  // Send everything; while the server's answer fills our buffer, read it so neither side blocks.
  for (;;) {
    const int flushed = pq().PQflush(c.conn);
    if (flushed == 0) break;
    if (flushed < 0) co_return c.error();
    if (!co_await c.wait(WaitType::wait_write, deadline)) co_return c.timed_out("query");
    if (!pq().PQconsumeInput(c.conn)) co_return c.error();
  }
  std::optional<PgRows> rows;
  std::optional<PgError> failed;
  for (;;) {
    if (!pq().PQconsumeInput(c.conn)) co_return c.error();
    while (!pq().PQisBusy(c.conn)) {
      pg_result* r = pq().PQgetResult(c.conn);
      if (!r) {
        if (failed) co_return std::move(*failed);
        if (rows) co_return std::move(*rows);
        co_return PgError{"PostgreSQL sent no result", {}, false};
      }
      const auto status = pq().PQresultStatus(r);
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        rows.emplace(r);  // a multi-statement text keeps the last answer
      } else {
        if (!failed) {
          const char* state = pq().PQresultErrorField(r, PG_DIAG_SQLSTATE);
          failed = PgError{trimmed(pq().PQresultErrorMessage(r)), state ? state : "", pq().PQstatus(c.conn) == CONNECTION_BAD};
        }
        pq().PQclear(r);
      }
    }
    if (!co_await c.wait(WaitType::wait_read, deadline)) co_return c.timed_out("query");
  }
}

}  // namespace shipgate::orchestration

namespace boost::system {
void throw_exception_from_error(const shipgate::orchestration::PgError& e, boost::source_location const&) {
  throw std::runtime_error(e.message);
}
}  // namespace boost::system
