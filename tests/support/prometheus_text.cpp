#include "tests/support/prometheus_text.hpp"

#include <cctype>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace shipgate::testing {

namespace {
bool name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' || (!first && std::isdigit(static_cast<unsigned char>(c)));
}
}  // namespace

Exposition parse_exposition(const std::string& text) {
  Exposition out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  auto fail = [&](const std::string& why) {
    if (out.error.empty()) out.error = "line " + std::to_string(n) + ": " + why + ": " + line;
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream c(line);
      std::string hash, kind, name, rest;
      c >> hash >> kind >> name;
      if (kind == "TYPE") {
        c >> rest;
        if (rest != "counter" && rest != "gauge" && rest != "histogram" && rest != "summary" && rest != "untyped")
          fail("bad type");
        out.types[name] = rest;
      } else if (kind != "HELP") {
        fail("unknown comment");
      }
      continue;
    }
    std::size_t i = 0;
    if (!name_char(line[0], true)) {
      fail("bad metric name");
      continue;
    }
    while (i < line.size() && name_char(line[i], i == 0)) ++i;
    std::string key = line.substr(0, i);
    std::vector<std::pair<std::string, std::string>> labels;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t start = i;
        while (i < line.size() && name_char(line[i], i == start)) ++i;
        const std::string label = line.substr(start, i - start);
        if (label.empty() || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
          fail("bad label");
          break;
        }
        i += 2;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) {
            const char e = line[++i];
            value.push_back(e == 'n' ? '\n' : e);
          } else {
            value.push_back(line[i]);
          }
          ++i;
        }
        if (i >= line.size()) {
          fail("unterminated label value");
          break;
        }
        ++i;  // closing quote
        labels.emplace_back(label, value);
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size() || line[i] != '}') {
        fail("unterminated labels");
        continue;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      fail("no value");
      continue;
    }
    const std::string value = line.substr(i + 1, line.find(' ', i + 1) - i - 1);
    char* end = nullptr;
    const double v = value == "+Inf" ? 1e308 : std::strtod(value.c_str(), &end);
    if (value != "+Inf" && (end == value.c_str() || *end != '\0')) {
      fail("bad value");
      continue;
    }
    std::sort(labels.begin(), labels.end());
    if (!labels.empty()) {
      key += "{";
      for (std::size_t j = 0; j < labels.size(); ++j)
        key += (j ? "," : "") + labels[j].first + "=\"" + labels[j].second + "\"";
      key += "}";
    }
    out.samples[key] = v;
  }
  return out;
}

}  // namespace shipgate::testing
