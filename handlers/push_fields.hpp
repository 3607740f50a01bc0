// The fields of a GitHub push event that shipgate acts on, read from the body in one validating pass
// without building a document. A push body is mostly commit and file lists that shipgate ignores;
// building them as a JSON document was the largest cost of accepting a webhook.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "handlers/json_body.hpp"

namespace shipgate::handlers {

struct PushFields {
  std::string ref;
  std::string after;
  bool deleted = false;
  std::string repository;    // repository.full_name
  std::string sender_login;  // sender.login
  std::string pusher_name;   // pusher.name
  std::string commit_time;   // head_commit.timestamp (RFC 3339, as GitHub writes it)
  std::string project;       // project (the build webhook's body)
};

// Reads `text` (the whole body) by the rules of parse_object (same parser, same verdicts). A field that
// is absent or of another type reads as empty (false for `deleted`); when a key repeats, the last one
// counts. Anything but `ok` leaves `out` unspecified.
JsonCheck read_push_fields(std::string_view text, PushFields& out);

// The same reading, fed a part at a time, so a large body can be read between other work.
class PushFieldsReader {
 public:
  explicit PushFieldsReader(PushFields& out);
  ~PushFieldsReader();
  // Reads the next part of the text (`last` for the final one); false once the text cannot be valid.
  bool write(std::string_view part, bool last);
  // After the last part: what the whole text was.
  JsonCheck result() const { return result_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  JsonCheck result_ = JsonCheck::malformed;
};

}  // namespace shipgate::handlers
