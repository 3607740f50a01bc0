#include "store/sqlite/sqlite_rows.hpp"

#include "store/store_rows.hpp"

namespace shipgate::orchestration {

const char* const kDeploymentColumns = SHIPGATE_DEPLOYMENT_COLUMNS;
const char* const kOutboxColumns = SHIPGATE_OUTBOX_COLUMNS;

Deployment read_deployment(const Statement& s) { return deployment_from_row(s); }

Result<void> found_row(Statement& st) {
  const int rc = st.step();
  if (rc == SQLITE_ROW) return {};
  return make_error_code(rc == SQLITE_DONE ? StoreErrc::not_found : StoreErrc::io_error);
}

Result<std::vector<OutboxItem>> read_outbox(Statement& st) {
  std::vector<OutboxItem> out;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) out.push_back(outbox_item_from_row(st));
  if (rc != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
  return out;
}

}  // namespace shipgate::orchestration
