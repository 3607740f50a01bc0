// Small text helpers with no dependencies beyond the standard library.
#pragma once
#include <string>
#include <string_view>

namespace shipgate {

// Shell-style glob: '*' matches within a path segment, '**' across segments, '?' one character.
bool glob_match(std::string_view pattern, std::string_view text);

// application/x-www-form-urlencoded value decoding ('+' is a space, %XX an octet).
// Returns false on a malformed escape.
bool form_decode(std::string_view in, std::string& out);

// Percent-encodes every octet but RFC 3986's unreserved ones (letters, digits, - . _ ~): for a URL's
// query or path segment, or a form value.
std::string percent_encode(std::string_view in);

// Finds `name` in a form-encoded body and decodes its value. Returns false when absent or malformed.
bool form_field(std::string_view body, std::string_view name, std::string& value);

bool is_hex(std::string_view s);

// 1 to `max` visible ASCII characters (0x21-0x7e): safe in a key, a header and a log line.
bool is_token(std::string_view s, std::size_t max);

// 1 to `max` ASCII letters, digits, '.', '_' and '-': a name that is plain in a label, a URL and a log.
bool is_plain_name(std::string_view s, std::size_t max);

// "scheme://host[:port]" of a URL, without credentials, path or query: URLs such as Slack's incoming
// webhooks carry their secret in the path, so logs and results show only this part ("/..." marks that
// something was left out).
std::string url_origin(std::string_view url);

// 1 to `max` bytes with no control character (nor DEL): text from outside that may go into a log line,
// a page or a stored result as it is (UTF-8 allowed, unlike is_token).
bool is_plain_text(std::string_view s, std::size_t max);

// The text with control characters (and DEL) written as \n, \r, \t or \xNN, so a value from a
// request can never start a new log line or hide what follows it.
std::string escape_control(std::string_view s);

std::string to_lower(std::string_view s);

// A whole file's bytes; nothing when it cannot be read.
std::optional<std::string> read_whole_file(const std::string& path);

// Without leading and trailing spaces and tabs.
std::string_view trim(std::string_view s);

}  // namespace shipgate
