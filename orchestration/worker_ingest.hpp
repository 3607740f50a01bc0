// Deployments a background worker planned (a schedule, a registry watch, a platform commit) rather than
// a request: stored once per `key`, so another replica or a restart doing the same work again gets the
// first answer back as a duplicate and creates nothing. No one reads the stored answer.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

#include "store/store.hpp"

namespace shipgate::orchestration {

boost::asio::awaitable<Result<IngestResult>> ingest_once(Store& store, std::string key, std::string source,
                                                         std::vector<NewDeployment> deployments);

}  // namespace shipgate::orchestration
