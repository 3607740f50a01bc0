#include "orchestration/worker_ingest.hpp"

namespace shipgate::orchestration {

boost::asio::awaitable<Result<IngestResult>> ingest_once(Store& store, std::string key, std::string source,
                                                         std::vector<NewDeployment> deployments) {
  IngestRequest request;
  request.delivery_key = std::move(key);
  request.source = std::move(source);
  request.deployments = std::move(deployments);
  request.respond = [](const std::vector<IngestedDeployment>&) { return StoredResponse{200, "{}"}; };
  co_return co_await store.ingest(std::move(request));
}

}  // namespace shipgate::orchestration
