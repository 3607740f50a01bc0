#include "orchestration/current_versions.hpp"

namespace shipgate::orchestration {

boost::asio::awaitable<CurrentVersions> current_versions(Store& store,
                                                         std::vector<std::pair<std::string, std::string>> lanes) {
  CurrentVersions current;
  for (const auto& lane : lanes) {
    DeploymentFilter newest{lane.first, lane.second, {State::running, State::queued, State::succeeded}, 1, 0};
    auto found = co_await store.deployments(newest);
    if (found && !found->empty()) current.emplace(lane, found->front());
  }
  co_return current;
}

}  // namespace shipgate::orchestration
