#include "handlers/push_fields.hpp"

#include <boost/json/basic_parser_impl.hpp>

namespace shipgate::handlers {

namespace {

using boost::json::error_code;
using boost::json::string_view;

// basic_parser events -> PushFields. Tracks only how deep it is and which key the next value
// belongs to; every value is validated by the parser, and only the wanted strings are copied.
class PushHandler {
 public:
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  explicit PushHandler(PushFields& out) : out_(out) {}

  bool top_is_object() const { return top_is_object_; }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) {
    value();
    ++depth_;
    return true;
  }
  bool on_array_end(std::size_t, error_code&) {
    --depth_;
    return true;
  }
  bool on_object_begin(error_code&) {
    if (depth_ == 0) top_is_object_ = true;
    value();
    ++depth_;
    return true;
  }
  bool on_object_end(std::size_t, error_code&) {
    --depth_;
    return true;
  }
  bool on_string_part(string_view s, std::size_t, error_code&) {
    if (target_) target_->append(s.data(), s.size());
    return true;
  }
  bool on_string(string_view s, std::size_t, error_code&) {
    if (target_) target_->append(s.data(), s.size());
    value();
    return true;
  }
  bool on_key_part(string_view s, std::size_t, error_code&) {
    if (depth_ <= 2) key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code&) {
    if (depth_ <= 2) {
      key_.append(s.data(), s.size());
      on_full_key();
      key_.clear();
    }
    return true;
  }
  bool on_number_part(string_view, error_code&) { return true; }
  bool on_int64(std::int64_t, string_view, error_code&) { return value(); }
  bool on_uint64(std::uint64_t, string_view, error_code&) { return value(); }
  bool on_double(double, string_view, error_code&) { return value(); }
  bool on_bool(bool b, error_code&) {
    if (flag_) *flag_ = b;
    return value();
  }
  bool on_null(error_code&) { return value(); }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

 private:
  enum class Outer { other, repository, sender, pusher, head_commit };

  // A value ends the key it belonged to (a container value's own keys are handled below it).
  bool value() {
    target_ = nullptr;
    flag_ = nullptr;
    return true;
  }

  // The field a key names is reset here, so a repeated key or a value of another type reads as
  // empty, as it would when looked up in a parsed document.
  void on_full_key() {
    if (depth_ == 1) {
      outer_ = Outer::other;
      if (key_ == "ref") aim(out_.ref);
      else if (key_ == "after") aim(out_.after);
      else if (key_ == "deleted") {
        out_.deleted = false;
        flag_ = &out_.deleted;
      } else if (key_ == "repository") {
        outer_ = Outer::repository;
        out_.repository.clear();
      } else if (key_ == "sender") {
        outer_ = Outer::sender;
        out_.sender_login.clear();
      } else if (key_ == "project") {
        aim(out_.project);
      } else if (key_ == "pusher") {
        outer_ = Outer::pusher;
        out_.pusher_name.clear();
      } else if (key_ == "head_commit") {
        outer_ = Outer::head_commit;
        out_.commit_time.clear();
      }
    } else if (depth_ == 2) {
      if (outer_ == Outer::repository && key_ == "full_name") aim(out_.repository);
      else if (outer_ == Outer::sender && key_ == "login") aim(out_.sender_login);
      else if (outer_ == Outer::pusher && key_ == "name") aim(out_.pusher_name);
      else if (outer_ == Outer::head_commit && key_ == "timestamp") aim(out_.commit_time);
    }
  }

  void aim(std::string& field) {
    field.clear();
    target_ = &field;
  }

  PushFields& out_;
  std::size_t depth_ = 0;
  bool top_is_object_ = false;
  Outer outer_ = Outer::other;
  std::string key_;
  std::string* target_ = nullptr;
  bool* flag_ = nullptr;
};

}  // namespace

struct PushFieldsReader::Impl {
  Impl(const boost::json::parse_options& options, PushFields& out) : parser(options, out) {}
  boost::json::basic_parser<PushHandler> parser;
};

namespace {
boost::json::parse_options depth_limit() {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  return options;
}
}  // namespace

PushFieldsReader::PushFieldsReader(PushFields& out) : impl_(std::make_unique<Impl>(depth_limit(), out)) {
  out = PushFields{};
}

PushFieldsReader::~PushFieldsReader() = default;

bool PushFieldsReader::write(std::string_view part, bool last) {
  error_code ec;
  const std::size_t used = impl_->parser.write_some(!last, part.data(), part.size(), ec);
  if (ec == boost::json::error::too_deep) {
    result_ = JsonCheck::too_deep;
    return false;
  }
  if (ec || used != part.size()) {
    result_ = JsonCheck::malformed;
    return false;
  }
  if (last) result_ = impl_->parser.handler().top_is_object() ? JsonCheck::ok : JsonCheck::not_object;
  return true;
}

JsonCheck read_push_fields(std::string_view text, PushFields& out) {
  PushFieldsReader reader(out);
  reader.write(text, true);
  return reader.result();
}

}  // namespace shipgate::handlers
