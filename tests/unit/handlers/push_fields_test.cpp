// The push field reader against the document parser it stands in for: same fields, same verdicts.
#include <gtest/gtest.h>

#include "handlers/push_fields.hpp"

using namespace shipgate::handlers;

namespace {

const std::string kPush = R"({
  "ref": "refs\/heads\/main", "before": "0000000000000000000000000000000000000000",
  "after": "AbC1230000000000000000000000000000000def", "created": false, "deleted": false,
  "repository": {"id": 1, "name": "app", "full_name": "acme/app", "owner": {"name": "acme", "login": "acme"}},
  "pusher": {"name": "octo\u0063at", "email": "octo@example.com"},
  "sender": {"login": "octocat", "id": 1, "name": "not this"},
  "head_commit": {"id": "abc", "timestamp": "2026-11-30T10:00:00+01:00", "author": {"name": "Someone Else"},
                  "modified": ["a.cpp", "b.cpp"]},
  "commits": [{"id": "abc", "ref": "not this", "author": {"name": "Someone Else", "login": "x"},
               "added": [], "removed": [], "modified": ["a.cpp", "b.cpp"]}]
})";

// What the handler read from a parsed document before the field reader existed.
PushFields from_document(const boost::json::object& j) {
  PushFields f;
  f.ref = str(j, "ref");
  f.after = str(j, "after");
  f.deleted = is_true(j, "deleted");
  f.repository = nested_str(j, "repository", "full_name");
  f.sender_login = nested_str(j, "sender", "login");
  f.pusher_name = nested_str(j, "pusher", "name");
  f.commit_time = nested_str(j, "head_commit", "timestamp");
  f.project = str(j, "project");
  return f;
}

void expect_same(const PushFields& a, const PushFields& b, const std::string& input) {
  EXPECT_EQ(a.ref, b.ref) << input;
  EXPECT_EQ(a.after, b.after) << input;
  EXPECT_EQ(a.deleted, b.deleted) << input;
  EXPECT_EQ(a.repository, b.repository) << input;
  EXPECT_EQ(a.sender_login, b.sender_login) << input;
  EXPECT_EQ(a.pusher_name, b.pusher_name) << input;
  EXPECT_EQ(a.commit_time, b.commit_time) << input;
  EXPECT_EQ(a.project, b.project) << input;
}

// Both readers on one input: the same verdict and, when accepted, the same fields.
void expect_agree(const std::string& input) {
  PushFields fast;
  const JsonCheck check = read_push_fields(input, fast);
  Response error;
  const auto doc = parse_json(input, error);
  ASSERT_EQ(check == JsonCheck::ok, doc.has_value()) << input;
  if (doc) expect_same(fast, from_document(*doc), input);
}

}  // namespace

TEST(PushFields, ReadsOnlyTheTopLevelAndNamedNestedFields) {
  PushFields f;
  ASSERT_EQ(read_push_fields(kPush, f), JsonCheck::ok);
  EXPECT_EQ(f.ref, "refs/heads/main");  // escapes decoded
  EXPECT_EQ(f.after, "AbC1230000000000000000000000000000000def");
  EXPECT_FALSE(f.deleted);
  EXPECT_EQ(f.repository, "acme/app");  // not repository.owner.name
  EXPECT_EQ(f.pusher_name, "octocat");  // \u0063 decoded; not head_commit.author.name
  EXPECT_EQ(f.sender_login, "octocat");  // not commits[].author.login
  EXPECT_EQ(f.commit_time, "2026-11-30T10:00:00+01:00");
  expect_agree(kPush);
}

TEST(PushFields, OtherTypesReadAsEmptyAndTheLastRepeatedKeyCounts) {
  for (const std::string input : {
           R"({"ref": 5, "after": null, "deleted": "true", "repository": "acme/app", "sender": ["login"]})",
           R"({"ref": "a", "ref": {"x": 1}, "deleted": true, "deleted": 0})",
           R"({"ref": {"ref": "inner"}, "repository": {"full_name": "x", "full_name": 7}})",
           R"({"repository": {"full_name": "x"}, "repository": {}})",
           R"({"repository": {"full_name": "first"}, "repository": {"full_name": "second"}, "deleted": true})",
           R"({"sender": {"login": "a"}, "sender": null, "pusher": {"name": ["n"]}})",
           R"({"after": "x\"y\\z\u00e9\ud83d\ude00", "ref": ""})",
       })
    expect_agree(input);
  PushFields f;
  ASSERT_EQ(read_push_fields(R"({"deleted": true, "ref": 1, "ref": "r"})", f), JsonCheck::ok);
  EXPECT_TRUE(f.deleted);
  EXPECT_EQ(f.ref, "r");
}

TEST(PushFields, RejectsWhatTheDocumentParserRejects) {
  PushFields f;
  EXPECT_EQ(read_push_fields("", f), JsonCheck::malformed);
  EXPECT_EQ(read_push_fields(R"({"ref": "a"} x)", f), JsonCheck::malformed);
  EXPECT_EQ(read_push_fields(R"({"ref": "a",})", f), JsonCheck::malformed);
  EXPECT_EQ(read_push_fields("{\"ref\": \"\xff\xfe\"}", f), JsonCheck::malformed);
  EXPECT_EQ(read_push_fields(R"({"ref": "a" /* c */})", f), JsonCheck::malformed);
  EXPECT_EQ(read_push_fields(R"([{"ref": "a"}])", f), JsonCheck::not_object);
  EXPECT_EQ(read_push_fields(R"("text")", f), JsonCheck::not_object);
  EXPECT_EQ(read_push_fields(" {\"ref\": \"a\"} \n", f), JsonCheck::ok);
  // A NUL byte after the object: the document parser used to stop reading there and accept it.
  const std::string nul_tail("{}\0junk", 7);
  EXPECT_EQ(read_push_fields(nul_tail, f), JsonCheck::malformed);
  expect_agree(nul_tail);
  expect_agree(std::string("{\"ref\": \"a\0b\"}", 14));
  const std::string deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  EXPECT_EQ(read_push_fields("{\"a\":" + deep + "}", f), JsonCheck::too_deep);
  const std::string fits = std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']');
  EXPECT_EQ(read_push_fields("{\"a\":" + fits + "}", f), JsonCheck::ok);
}

TEST(PushFields, AgreesWithTheDocumentParserOnEveryTruncationAndByteChange) {
  // Every prefix, and every single byte replaced by a character that matters to a JSON parser.
  for (std::size_t n = 0; n <= kPush.size(); ++n) expect_agree(kPush.substr(0, n));
  for (std::size_t i = 0; i < kPush.size(); ++i)
    for (char c : {'"', '{', '}', '[', ']', ',', ':', '\\', 'x', '\x01', '\xc3'}) {
      std::string mutated = kPush;
      mutated[i] = c;
      expect_agree(mutated);
    }
}

TEST(PushFields, ReadsTheSameFedInParts) {
  PushFields whole;
  ASSERT_EQ(read_push_fields(kPush, whole), JsonCheck::ok);
  for (std::size_t part : {1, 7, 64}) {
    PushFields f;
    PushFieldsReader reader(f);
    for (std::size_t at = 0; at < kPush.size(); at += part)
      ASSERT_TRUE(reader.write(std::string_view(kPush).substr(at, part), at + part >= kPush.size())) << part;
    ASSERT_EQ(reader.result(), JsonCheck::ok) << part;
    expect_same(f, whole, "parts of " + std::to_string(part));
  }
}
