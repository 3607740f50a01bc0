// A small validated config shared by unit tests.
#pragma once
#include <gtest/gtest.h>

#include "config/loader.hpp"

namespace shipgate::testing {

inline config::ConfigPtr load_test_config(const std::string& yaml) {
  auto r = config::load_config_text(yaml, [](const std::string&) { return std::optional<std::string>("x"); });
  if (!r.errors.empty()) ADD_FAILURE() << r.errors.front().to_string();
  return r.config;
}

inline const char* kTestConfig = R"(
github: { secrets: [s] }
reviewers: { alice: { token: "alice-token-123456", can: [approve] } }
projects:
  planera:
    repository: acme/planera
    components:
      backend: { image: ghcr.io/acme/backend }
      frontend: { image: ghcr.io/acme/frontend }
    environments:
      staging:
        deploy_on: [push, dispatch, build]
        tags: "v*"
        tag: "staging-{short_sha}"
        targets: [ { type: http, url: "http://127.0.0.1:1/x" } ]
      preview:
        deploy_on: [push]
        branch: develop
        targets: [ { type: http, url: "http://127.0.0.1:1/x" } ]
      production:
        deploy_on: [dispatch]
        tag: "{version}"
        approval: { required: 1, reviewers: [alice] }
        targets: [ { type: http, url: "http://127.0.0.1:1/x" } ]
)";

}  // namespace shipgate::testing
