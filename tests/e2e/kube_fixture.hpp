// Shared setup for the end-to-end tests against the Kubernetes stand-in: its TLS keys, the stand-in
// itself with a kubeconfig for it, and a push that returns the deployment's id.
#pragma once
#include <memory>
#include <string>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/kube_standin.hpp"
#include "tests/support/pki.hpp"

namespace shipgate::testing {

class KubeE2E : public E2E {
 protected:
  void SetUp() override {
    E2E::SetUp();
    pki = make_test_pki(dir.path());
    kube = std::make_unique<KubeStandin>("deployer-token", pki.server_cert_file, pki.server_key_file);
    dir.write("kubeconfig", kube->kubeconfig("deployer-token"));
  }
  // A push of `sha` to main of `repo`; the id of the deployment it queued (0 when none).
  std::int64_t push_sha(const std::string& repo, const std::string& sha) {
    auto r = push("refs/heads/main", sha, new_delivery_id(), repo);
    EXPECT_EQ(r.status, 202) << r.body;
    return r.json()["deployments"][0].value("id", std::int64_t{0});
  }

  TestPki pki;
  std::unique_ptr<KubeStandin> kube;
};

}  // namespace shipgate::testing
