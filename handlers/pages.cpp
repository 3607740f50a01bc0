// The reviewer page: `/` and its section paths answer the page itself (the notification links point at
// /deployments/{id}), `/assets/{name}` its files. No sign-in is needed to load the page; everything
// it shows comes from the API, which needs one. Validators let a browser keep the files (ETag).
#include <map>

#include "common/crypto.hpp"
#include "handlers/app.hpp"
#include "web/assets.hpp"

namespace shipgate::handlers {

namespace {

// The asset's ETag, from its bytes; all computed once, on first use.
const std::string& etag_of(const web::Asset& asset) {
  static const std::map<std::string_view, std::string> tags = [] {
    std::map<std::string_view, std::string> out;
    for (const auto& a : web::assets()) out[a.name] = "\"" + sha256_hex(a.bytes).substr(0, 32) + "\"";
    return out;
  }();
  return tags.at(asset.name);
}

Response serve(const Request& req, const web::Asset& asset) {
  Response res;
  const auto& tag = etag_of(asset);
  res.headers.emplace_back("ETag", tag);
  // Always revalidated, so a new daemon's page is picked up at once; a 304 costs a header.
  res.headers.emplace_back("Cache-Control", "no-cache");
  if (req.header("If-None-Match") == tag) {
    res.status = 304;
    return res;
  }
  res.content_type = std::string(asset.content_type);
  res.body = std::string(asset.bytes);
  return res;
}

boost::asio::awaitable<Response> page(Request& req) { co_return serve(req, web::index_page()); }

boost::asio::awaitable<Response> asset(Request& req) {
  const auto* a = web::find_asset(req.params["name"]);
  if (!a || a->name == "index.html") co_return error_response(404, "not_found", "no asset " + req.params["name"]);
  co_return serve(req, *a);
}

}  // namespace

void add_page_routes(Router& router, const App&) {
  for (const char* path : {"/", "/approvals", "/audit", "/insights", "/deployments/{id}"})
    router.add("GET", path, RouteKind::api, page);
  router.add("GET", "/assets/{name}", RouteKind::api, asset);
}

}  // namespace shipgate::handlers
