// The PostgreSQL store's reads: the same questions as the SQLite store's reads, each one statement (or
// three for a deployment with its history) on a connection the caller borrowed from the pool.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/postgres/pg_connection.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration::pg_reads {

template <class T>
using Read = boost::asio::awaitable<Result<T>>;

Read<std::optional<Deployment>> deployment(PgConnection& c, std::int64_t id, bool with_history);
Read<std::vector<Deployment>> deployments(PgConnection& c, const DeploymentFilter& f);
Read<std::optional<Deployment>> next_to_run(PgConnection& c, const std::string& project, const std::string& environment);
Read<std::vector<std::pair<std::string, std::string>>> lanes_with_work(PgConnection& c);
Read<std::vector<OutboxItem>> outbox_due(PgConnection& c, std::int64_t now_ms, int limit);
Read<std::set<std::string>> unfinished_config_shas(PgConnection& c);
Read<std::optional<Deployment>> find_version(PgConnection& c, const std::string& project, const std::string& version);
Read<std::vector<StateCount>> state_counts(PgConnection& c);
Read<std::vector<BadVersion>> bad_versions(PgConnection& c, const std::string& project, const std::string& environment);
Read<std::vector<AuditEntry>> audit(PgConnection& c, const AuditFilter& f);
Read<void> ping(PgConnection& c);

}  // namespace shipgate::orchestration::pg_reads
