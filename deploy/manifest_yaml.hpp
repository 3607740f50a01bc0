// Writing placeholder values into YAML text, and reading YAML documents as JSON objects: the two halves
// of rendering a manifest file. Pure; nothing here throws on what a file or a value holds.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace shipgate::deploy {

// Appends `value` to `out` (the rendered text so far) so that YAML reads it back as the same string,
// whatever it holds. Where the placeholder stands decides how:
// - inside a double-quoted scalar: escaped as in JSON ("\"", "\\", "\n", "\u0001");
// - inside a single-quoted scalar: "'" doubled; a control character there is an error;
// - a whole plain scalar (after "key: ", "- " or at the line's start, and nothing but a comment after):
//   written as a double-quoted string, so "1.10", "true" or "null" stay strings;
// - part of a plain scalar: as is when it holds only letters, digits and ". _ / : @ + = ~ -" (and does
//   not end in ':'), an error otherwise (the message asks for quotes).
// Returns the error, empty when written.
std::string write_yaml_value(std::string& out, std::string_view after, std::string_view name, const std::string& value);

// The documents of a YAML text as JSON, empty documents left out. Plain scalars keep YAML 1.2's core
// types (null, true/false, integers, floats); quoted ones are strings. `error` says what could not be
// read (with the line), and then nothing is returned.
std::vector<nlohmann::json> yaml_documents(const std::string& text, std::string& error);

}  // namespace shipgate::deploy
