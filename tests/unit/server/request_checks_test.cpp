// The listener's framing and path checks, as pure functions.
#include <gtest/gtest.h>

#include "server/limits.hpp"
#include "server/request_checks.hpp"

using namespace shipgate::server;

TEST(CanonicalPath, OnlyTheRoutersOwnFormPasses) {
  for (const char* ok : {"/", "/healthz", "/api/v1/deployments/12", "/webhooks/github", "/a.b/c..d/.e"})
    EXPECT_TRUE(is_canonical_path(ok)) << ok;
  for (const char* bad : {"", "api/v1", "//api/v1/info", "/api//v1", "/api/v1/", "/api/./v1", "/api/../api/v1",
                          "/.", "/..", "/api/v1/.."})
    EXPECT_FALSE(is_canonical_path(bad)) << bad;
}

TEST(TransferEncoding, OnlyExactlyChunkedFramesABody) {
  EXPECT_TRUE(transfer_encoding_acceptable({}));
  EXPECT_TRUE(transfer_encoding_acceptable({"chunked"}));
  EXPECT_TRUE(transfer_encoding_acceptable({" Chunked "}));
  EXPECT_FALSE(transfer_encoding_acceptable({"gzip"}));
  EXPECT_FALSE(transfer_encoding_acceptable({"gzip, chunked"}));
  EXPECT_FALSE(transfer_encoding_acceptable({"chunked, identity"}));
  EXPECT_FALSE(transfer_encoding_acceptable({"xchunked"}));
  EXPECT_FALSE(transfer_encoding_acceptable({"chunked", "chunked"}));
  EXPECT_FALSE(transfer_encoding_acceptable({""}));
}

TEST(ObsFold, AContinuationLineIsFound) {
  EXPECT_FALSE(has_obs_fold("GET / HTTP/1.1\r\nHost: x\r\nA: b c\r\n\r\n"));
  EXPECT_TRUE(has_obs_fold("GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n"));
  EXPECT_TRUE(has_obs_fold("GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n"));
}

TEST(BodyMemory, SharesAreTakenOnlyWhileTheyFitAndGivenBack) {
  BodyMemory memory(100);
  {
    BodyShare a{memory};
    EXPECT_TRUE(a.grow_to(60));
    BodyShare b{memory};
    EXPECT_FALSE(b.grow_to(41));
    EXPECT_TRUE(b.grow_to(40));
    EXPECT_EQ(memory.used(), 100u);
    EXPECT_FALSE(a.grow_to(61));
  }
  EXPECT_EQ(memory.used(), 0u);
  EXPECT_FALSE(memory.try_take(101));
  EXPECT_FALSE(memory.try_take(static_cast<std::size_t>(-1)));
}

TEST(ClientConnections, CountsPerAddress) {
  ClientConnections c;
  EXPECT_EQ(c.open("a"), 1);
  EXPECT_EQ(c.open("a"), 2);
  EXPECT_EQ(c.open("b"), 1);
  c.close("a");
  EXPECT_EQ(c.open("a"), 2);
}
