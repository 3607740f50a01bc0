// HTTPS listeners against the real binary: HTTPS only, HTTP and HTTPS side by side, client
// certificates, TLS 1.2 as the floor, and the certificate re-read on reload.
#include <signal.h>

#include <filesystem>

#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/pki.hpp"

using namespace shipgate::testing;

class Tls : public E2E {
 protected:
  std::string tls_block(const std::string& extra) {
    return "  tls: { cert: " + dir.file("tls.pem") + ", key: " + dir.file("tls.key") + extra + " }\n";
  }
  void install(const TestPki& p) {
    std::filesystem::copy_file(p.server_cert_file, dir.file("tls.pem"), std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(p.server_key_file, dir.file("tls.key"), std::filesystem::copy_options::overwrite_existing);
  }
  std::string pki_dir(const std::string& name) {
    const std::string d = dir.file(name);
    std::filesystem::create_directory(d);
    return d;
  }
};

TEST_F(Tls, HttpsOnlyOnServerListenWithTls12AsTheFloor) {
  const auto pki = make_test_pki(pki_dir("pki"));
  install(pki);
  start(tls_block(""));
  EXPECT_EQ(daemon->tls_port(), 0);
  auto r = https_request(daemon->port(), {pki.ca_pem_file}, "GET", "/healthz");
  EXPECT_EQ(r.status, 200) << r.tls_error;
  EXPECT_EQ(r.protocol, "TLSv1.3");
  auto old = https_request(daemon->port(), {pki.ca_pem_file, "", "", true}, "GET", "/healthz");
  EXPECT_EQ(old.status, 200) << old.tls_error;
  EXPECT_EQ(old.protocol, "TLSv1.2");
  // Plain HTTP on the HTTPS port gets no HTTP answer, and the daemon carries on.
  EXPECT_EQ(http_request(daemon->port(), "GET", "/healthz").status, 0);
  // A client that does not trust the certificate refuses it.
  auto untrusted = https_request(daemon->port(), {pki.other_ca_pem_file}, "GET", "/healthz");
  EXPECT_EQ(untrusted.status, 0);
  EXPECT_FALSE(untrusted.tls_error.empty());
  // A signed webhook over HTTPS is accepted like over HTTP.
  const std::string body = push_payload("acme/planera", "refs/heads/main", kSha);
  auto hook = https_request(daemon->port(), {pki.ca_pem_file}, "POST", "/webhooks/github",
                            github_headers("push", new_delivery_id(), kSecret, body), body);
  EXPECT_EQ(hook.status, 202) << hook.body << hook.tls_error;
}

TEST_F(Tls, HttpAndHttpsSideBySide) {
  const auto pki = make_test_pki(pki_dir("pki"));
  install(pki);
  start("  tls: { listen: \"127.0.0.1:0\", cert: " + dir.file("tls.pem") + ", key: " + dir.file("tls.key") + " }\n");
  ASSERT_NE(daemon->tls_port(), 0);
  EXPECT_EQ(http_request(daemon->port(), "GET", "/healthz").status, 200);
  auto r = https_request(daemon->tls_port(), {pki.ca_pem_file}, "GET", "/healthz");
  EXPECT_EQ(r.status, 200) << r.tls_error;
  EXPECT_NE(daemon->log().find("and https://127.0.0.1:"), std::string::npos);
  // Browsers are told to keep to HTTPS, over HTTPS only (over plain HTTP the header means nothing).
  EXPECT_EQ(r.header("Strict-Transport-Security"), "max-age=31536000");
  EXPECT_EQ(http_request(daemon->port(), "GET", "/healthz").header("Strict-Transport-Security"), "");
}

TEST_F(Tls, MutualTlsRequiresAClientCertificateFromTheConfiguredCa) {
  const auto pki = make_test_pki(pki_dir("pki"));
  install(pki);
  start(tls_block(", client_ca: " + pki.ca_pem_file));
  auto without = https_request(daemon->port(), {pki.ca_pem_file}, "GET", "/healthz");
  EXPECT_EQ(without.status, 0);
  auto with = https_request(daemon->port(), {pki.ca_pem_file, pki.client_cert_file, pki.client_key_file}, "GET", "/healthz");
  EXPECT_EQ(with.status, 200) << with.tls_error;
}

TEST_F(Tls, AReloadPicksUpARenewedCertificateAndRefusesABrokenOne) {
  const auto first = make_test_pki(pki_dir("one"));
  const auto second = make_test_pki(pki_dir("two"));
  install(first);
  start(tls_block(""));
  ASSERT_EQ(https_request(daemon->port(), {first.ca_pem_file}, "GET", "/healthz").status, 200);

  // A broken pair (the key of another certificate): refused, the old certificate keeps serving.
  std::filesystem::copy_file(second.server_key_file, dir.file("tls.key"), std::filesystem::copy_options::overwrite_existing);
  daemon->process().signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return daemon->log().find("reload refused") != std::string::npos; })) << daemon->log();
  EXPECT_NE(daemon->log().find("server.tls: cannot load private key"), std::string::npos) << daemon->log();
  EXPECT_EQ(https_request(daemon->port(), {first.ca_pem_file}, "GET", "/healthz").status, 200);

  install(second);
  daemon->process().signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return daemon->log().find("reload: config") != std::string::npos; })) << daemon->log();
  auto renewed = https_request(daemon->port(), {second.ca_pem_file}, "GET", "/healthz");
  EXPECT_EQ(renewed.status, 200) << renewed.tls_error;
  EXPECT_EQ(https_request(daemon->port(), {first.ca_pem_file}, "GET", "/healthz").status, 0);
}

TEST_F(Tls, AnUnreadableCertificateStopsTheStartWithTheReason) {
  daemon = std::make_unique<Daemon>(dir, e2e_config(dokploy.url(), tls_block("")));
  EXPECT_FALSE(daemon->start());
  EXPECT_EQ(daemon->process().wait(std::chrono::seconds(10)).value_or(-1), 3);
  EXPECT_NE(daemon->log().find("cannot load certificate"), std::string::npos) << daemon->log();
}
