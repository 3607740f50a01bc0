// Image references as registries read them, and the challenges registries answer 401 with.
#include <gtest/gtest.h>

#include <vector>

#include "deploy/image_reference.hpp"
#include "deploy/registry_client.hpp"

using namespace shipgate::deploy;

namespace {
const std::string kDigest = std::string("sha256:").append(64, 'a');
}

TEST(ImageReference, ReadsRegistryRepositoryTagAndDigest) {
  struct Row {
    std::string text, registry, repository, tag, digest, api_host;
  };
  const Row rows[] = {
      {"ghcr.io/acme/api:staging-1a2b3c", "ghcr.io", "acme/api", "staging-1a2b3c", "", "ghcr.io"},
      {"127.0.0.1:5000/acme/api:v1.6.1", "127.0.0.1:5000", "acme/api", "v1.6.1", "", "127.0.0.1:5000"},
      {"localhost/app", "localhost", "app", "", "", "localhost"},
      {"nginx:1.25", "docker.io", "library/nginx", "1.25", "", "registry-1.docker.io"},
      {"acme/api", "docker.io", "acme/api", "", "", "registry-1.docker.io"},
      {"registry.example.com:5000/a/b/c@" + kDigest, "registry.example.com:5000", "a/b/c", "", kDigest,
       "registry.example.com:5000"},
      {"ghcr.io/acme/api:v1@" + kDigest, "ghcr.io", "acme/api", "v1", kDigest, "ghcr.io"},
      {"ghcr.io/acme/my_app__x.y-z:1", "ghcr.io", "acme/my_app__x.y-z", "1", "", "ghcr.io"},
  };
  for (const auto& row : rows) {
    const auto ref = parse_image_reference(row.text);
    ASSERT_TRUE(ref) << row.text;
    EXPECT_EQ(ref->registry, row.registry) << row.text;
    EXPECT_EQ(ref->repository, row.repository) << row.text;
    EXPECT_EQ(ref->tag, row.tag) << row.text;
    EXPECT_EQ(ref->digest, row.digest) << row.text;
    EXPECT_EQ(ref->api_host(), row.api_host) << row.text;
  }
}

TEST(ImageReference, RefusesWhatNoRegistryWouldAccept) {
  const std::string long_tag(140, 'x');
  const std::vector<std::string> bads{"", "ghcr.io/Acme/api:1", "ghcr.io/acme/api:", "ghcr.io/acme//api:1",
                                "ghcr.io/acme/api:-x", "ghcr.io/acme/api@sha256:abc", "ghcr.io/acme/api:1 2",
                                "ghcr.io/acme/-api:1", "ghcr.io/acme/api.:1", "ghcr.io/acme/a._b:1",
                                "reg istry.io/a:1", "host:99999x/a:1", "ghcr.io/acme/api:1\nX: y",
                                "ghcr.io/acme/api:" + long_tag};
  for (const auto& bad : bads) EXPECT_FALSE(parse_image_reference(bad)) << bad;
}

TEST(ImageReference, PinsByDigestAndAsksByWhatItHas) {
  const auto tagged = parse_image_reference("ghcr.io/acme/api:staging-1");
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->manifest_reference(), "staging-1");
  EXPECT_EQ(tagged->pinned(kDigest), "ghcr.io/acme/api@" + kDigest);
  EXPECT_EQ(parse_image_reference("nginx")->manifest_reference(), "latest");
  EXPECT_EQ(parse_image_reference("nginx")->pinned(kDigest), "nginx@" + kDigest);
  EXPECT_EQ(parse_image_reference("ghcr.io/acme/api:1@" + kDigest)->manifest_reference(), kDigest);
}

TEST(RegistryChallenge, ReadsTheParametersOfABearerChallenge) {
  const auto c = parse_challenge(
      R"(Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/api:pull,push")");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scheme, "bearer");
  EXPECT_EQ(c->params.at("realm"), "https://ghcr.io/token");
  EXPECT_EQ(c->params.at("service"), "ghcr.io");
  EXPECT_EQ(c->params.at("scope"), "repository:acme/api:pull,push");
  const auto basic = parse_challenge(R"(Basic realm="Registry Realm")");
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->scheme, "basic");
  EXPECT_EQ(basic->params.at("realm"), "Registry Realm");
  EXPECT_FALSE(parse_challenge(R"(Bearer realm="https://x)"));
  EXPECT_FALSE(parse_challenge(R"(Bearer realm)"));
  EXPECT_FALSE(parse_challenge(""));
}
