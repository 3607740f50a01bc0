// How the SQLite store's rows map to the store's types: the column lists its queries select, and the
// readers that turn a row into a Deployment or an outbox item.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "store/images_column.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

extern const char* const kDeploymentColumns;  // SHIPGATE_DEPLOYMENT_COLUMNS (store_rows.hpp)
// Outbox rows with the GitHub deployment id remembered on their deployment (FROM included).
extern const char* const kOutboxColumns;

// A row selected with kDeploymentColumns.
Deployment read_deployment(const Statement& s);
// Steps to a statement's one row: not_found when there is none, io_error when the read failed (a failed
// read is never taken for a missing row).
Result<void> found_row(Statement& st);
// Every row of a statement selecting kOutboxColumns.
Result<std::vector<OutboxItem>> read_outbox(Statement& st);

}  // namespace shipgate::orchestration
