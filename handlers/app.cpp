#include "handlers/app.hpp"

namespace shipgate::handlers {

Router build_router(const App& app) {
  Router router;
  add_github_routes(router, app);
  add_build_routes(router, app);
  add_api_routes(router, app);
  add_action_routes(router, app);
  add_audit_routes(router, app);
  add_health_routes(router, app);
  add_admin_routes(router, app);
  add_event_routes(router, app);
  add_session_routes(router, app);
  add_insights_routes(router, app);
  add_page_routes(router, app);
  add_slack_routes(router, app);
  if (app.metrics) add_metrics_routes(router, app);
  return router;
}

}  // namespace shipgate::handlers
