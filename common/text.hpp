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

// Finds `name` in a form-encoded body and decodes its value. Returns false when absent or malformed.
bool form_field(std::string_view body, std::string_view name, std::string& value);

bool is_hex(std::string_view s);

std::string to_lower(std::string_view s);

}  // namespace shipgate
