// Request bodies as JSON: every webhook and API body is read by one parser (Boost.JSON), which bounds
// the nesting itself, checks UTF-8 and refuses trailing text.
#pragma once
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace shipgate::handlers {

using http::Response;

constexpr int kMaxJsonDepth = 64;

// What a strict parse of a body found.
enum class JsonCheck { ok, malformed, too_deep, not_object };

// Parses `text` as one JSON object nested at most kMaxJsonDepth levels; `out` holds it when ok.
JsonCheck parse_object(std::string_view text, boost::json::value& out);

// The 400 answer for a body that failed a check (`check` is not ok).
Response json_error(JsonCheck check);

// parse_object for a handler: the object, or nothing with the 400 answer in `error`.
std::optional<boost::json::object> parse_json(std::string_view text, Response& error);

// Whether any string in `v` (keys included) holds a NUL character, which no store keeps whole.
bool has_nul(const boost::json::value& v);
bool has_nul(const boost::json::object& o);

// A string member, or empty when absent or not a string.
std::string str(const boost::json::object& o, std::string_view key);
std::string nested_str(const boost::json::object& o, std::string_view outer, std::string_view inner);
// A boolean member that is present and true.
bool is_true(const boost::json::object& o, std::string_view key);

}  // namespace shipgate::handlers
