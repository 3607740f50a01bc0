// Thin RAII over the SQLite C API: a connection with a cache of prepared statements.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace shipgate::orchestration {

// A borrowed cached statement. Resetting it on scope exit matters: an unreset statement keeps its
// read transaction open, pinning the reader to an old WAL snapshot.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* s) : s_(s) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_reset(s_); }
  // A bind that fails (an index out of range, no memory) is kept, and the next step() returns it: every
  // bind is checked where its statement runs.
  Statement& bind(int i, std::int64_t v) { return kept(sqlite3_bind_int64(s_, i, v)); }
  Statement& bind(int i, int v) { return kept(sqlite3_bind_int64(s_, i, v)); }
  Statement& bind(int i, std::string_view v) {
    return kept(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Statement& bind_null(int i) { return kept(sqlite3_bind_null(s_, i)); }
  // SQLITE_ROW, SQLITE_DONE or an error code (a failed bind's first).
  int step() { return bind_rc_ == SQLITE_OK ? sqlite3_step(s_) : bind_rc_; }
  // Hands each row to `row`; SQLITE_DONE when every row was read, otherwise the error that stopped the
  // read, so a list is never taken for whole when it was cut short.
  template <class RowFn>
  int each_row(RowFn&& row) {
    int rc;
    while ((rc = step()) == SQLITE_ROW) row(*this);
    return rc;
  }
  std::int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col))) : std::string();
  }

 private:
  Statement& kept(int rc) {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }

  sqlite3_stmt* s_;
  int bind_rc_ = SQLITE_OK;
};

class Db {
 public:
  Db() = default;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Returns an error message, empty on success.
  std::string open(const std::string& path, bool read_only);
  sqlite3* handle() const { return db_; }
  // Runs SQL without results; returns the SQLite result code.
  int exec(const char* sql);
  // A cached statement, reset and unbound, ready for binding. Lives as long as the Db.
  Statement prepare(std::string_view sql);
  std::string last_error() const { return db_ ? sqlite3_errmsg(db_) : "no database"; }

 private:
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

}  // namespace shipgate::orchestration
