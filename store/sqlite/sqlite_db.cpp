#include "store/sqlite/sqlite_db.hpp"

#include <stdexcept>

namespace shipgate::orchestration {

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  if (db_) sqlite3_close_v2(db_);
}

std::string Db::open(const std::string& path, bool read_only) {
  const int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) return last_error();
  sqlite3_busy_timeout(db_, 5000);
  return {};
}

int Db::exec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); }

Statement Db::prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                           nullptr) != SQLITE_OK)
      // Statements are compile-time constants of this program: failing to prepare one is a bug.
      throw std::logic_error("SQLite cannot prepare statement: " + last_error() + " in: " + std::string(sql));
    it = cache_.emplace(std::string(sql), stmt).first;
  }
  sqlite3_reset(it->second);
  sqlite3_clear_bindings(it->second);
  return Statement(it->second);
}

}  // namespace shipgate::orchestration
