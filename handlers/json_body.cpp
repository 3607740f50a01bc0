#include "handlers/json_body.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>

namespace shipgate::handlers {

JsonCheck parse_object(std::string_view text, boost::json::value& out) {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  out = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec, {}, options);
  if (ec == boost::json::error::too_deep) return JsonCheck::too_deep;
  if (ec) return JsonCheck::malformed;
  return out.is_object() ? JsonCheck::ok : JsonCheck::not_object;
}

Response json_error(JsonCheck check) {
  switch (check) {
    case JsonCheck::too_deep:
      return http::error_response(400, "malformed",
                                  "JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    case JsonCheck::not_object: return http::error_response(400, "malformed", "body must be a JSON object");
    default: return http::error_response(400, "malformed", "body is not valid JSON");
  }
}

std::optional<boost::json::object> parse_json(std::string_view text, Response& error) {
  boost::json::value doc;
  if (const auto check = parse_object(text, doc); check != JsonCheck::ok) {
    error = json_error(check);
    return std::nullopt;
  }
  return std::move(doc.as_object());
}

bool has_nul(const boost::json::value& v) {
  const auto nul = [](boost::json::string_view s) { return s.find('\0') != boost::json::string_view::npos; };
  if (const auto* s = v.if_string()) return nul(*s);
  if (const auto* a = v.if_array())
    return std::any_of(a->begin(), a->end(), [](const auto& e) { return has_nul(e); });
  if (const auto* o = v.if_object()) return has_nul(*o);
  return false;
}

bool has_nul(const boost::json::object& o) {
  return std::any_of(o.begin(), o.end(), [](const auto& m) {
    return m.key().find('\0') != boost::json::string_view::npos || has_nul(m.value());
  });
}

std::string str(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(boost::json::string_view(key.data(), key.size()));
  const auto* s = v ? v->if_string() : nullptr;
  return s ? std::string(s->data(), s->size()) : std::string();
}

std::string nested_str(const boost::json::object& o, std::string_view outer, std::string_view inner) {
  const auto* v = o.if_contains(boost::json::string_view(outer.data(), outer.size()));
  const auto* inner_object = v ? v->if_object() : nullptr;
  return inner_object ? str(*inner_object, inner) : std::string();
}

bool is_true(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(boost::json::string_view(key.data(), key.size()));
  return v && v->is_bool() && v->get_bool();
}

}  // namespace shipgate::handlers
