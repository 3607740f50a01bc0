// One PostgreSQL connection driven by the io_context: libpq in non-blocking mode, its socket awaited
// with Asio, so a query never blocks a thread and no thread is spent per query. The PostgreSQL store
// builds its pool from these.
//
// Thread-safety: one coroutine at a time per connection (a pool hands a connection to one user).
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct pg_conn;
struct pg_result;

namespace shipgate::orchestration {

// An integer as a query parameter's text.
inline std::string text(std::int64_t v) { return std::to_string(v); }

// What went wrong: libpq's message (never the password: libpq does not echo it) and, when the server
// answered with an error, its SQLSTATE (e.g. "23505" for a unique violation, "40001" serialization).
struct PgError {
  std::string message;
  std::string sqlstate;  // empty for connection and timeout errors
  bool connection_lost = false;
};

// Rows of one statement's answer, read as text (the protocol's text format).
class PgRows {
 public:
  explicit PgRows(pg_result* r);
  ~PgRows();
  PgRows(PgRows&& other) noexcept;
  PgRows& operator=(PgRows&& other) noexcept;
  PgRows(const PgRows&) = delete;
  PgRows& operator=(const PgRows&) = delete;

  int size() const;
  bool is_null(int row, int col) const;
  std::string text(int row, int col) const;
  std::int64_t int64(int row, int col) const;  // 0 for NULL
  std::int64_t affected() const;               // rows an INSERT/UPDATE/DELETE touched

 private:
  pg_result* r_;
};

using PgResult = boost::system::result<PgRows, PgError>;

// A NOTIFY another session sent on a channel this one LISTENs on.
struct PgNotification {
  std::string channel;
  std::string payload;
};
using PgNotifications = boost::system::result<std::vector<PgNotification>, PgError>;
using Millis = std::chrono::milliseconds;

class PgConnection {
 public:
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Connects with a libpq connection string or URI (postgresql://user@host:5432/db?sslmode=...).
  static boost::asio::awaitable<boost::system::result<std::unique_ptr<PgConnection>, PgError>> connect(
      boost::asio::any_io_executor executor, std::string conninfo, Millis timeout);

  // One statement with $1.. parameters (text; nullopt is NULL). An error answer, a lost connection or
  // the timeout is a PgError; after a timeout or a lost connection the connection is unusable (ok()
  // false) and the pool drops it.
  // Without a timeout: the connection's own (set_timeout), else 30 s.
  boost::asio::awaitable<PgResult> query(std::string sql, std::vector<std::optional<std::string>> params = {},
                                         std::optional<Millis> timeout = std::nullopt);
  // A script of several statements without parameters (schema migrations), through the simple query
  // protocol; the answer of the last statement. Without a timeout: the connection's own, else 60 s.
  boost::asio::awaitable<PgResult> execute(std::string script, std::optional<Millis> timeout = std::nullopt);
  // The bound of every query and script that names none (a pool's connections: the store's answers
  // to requests, reads and writes alike, wait no longer than this for a server that stopped answering).
  void set_timeout(Millis timeout) { timeout_ = timeout; }
  // Waits up to `timeout` for notifications on the channels this connection LISTENs on (run LISTEN
  // with query() first); empty when none came. Only for a connection kept for listening: no query may
  // run on it meanwhile.
  boost::asio::awaitable<PgNotifications> notifications(Millis timeout);
  bool ok() const;
  // Usable and outside any transaction: the only state in which a pool takes a connection back. One
  // left inside a transaction (a ROLLBACK that failed, a borrower that returned early) is dropped.
  bool idle() const;
  // Ends the open transaction without its changes. A ROLLBACK that fails (or a connection already
  // unusable) leaves the connection discarded, so the pool never lends it inside a transaction; the
  // caller keeps the error it is already returning.
  boost::asio::awaitable<void> roll_back();
  // Marks the connection unusable (after a ROLLBACK that failed): ok() is false from now on.
  void discard();

 private:
  // Sends what libpq has buffered, then collects the answers until the server is done.
  boost::asio::awaitable<PgResult> exchange(std::chrono::steady_clock::time_point deadline);
  struct Impl;
  explicit PgConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::optional<Millis> timeout_;
};

}  // namespace shipgate::orchestration

namespace boost::system {
// boost::system::result<T, PgError>::value() on an error: the message as an exception.
[[noreturn]] void throw_exception_from_error(const shipgate::orchestration::PgError& e, boost::source_location const& loc);
}  // namespace boost::system
