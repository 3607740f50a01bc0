#include "tests/support/pki.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/process.hpp"

namespace shipgate::testing {

TestPki make_test_pki(const std::string& d) {
  const std::string script =
      "set -e; cd " + d + ";"
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=shipgate-test-ca -keyout ca.key -out ca.pem 2>/dev/null;"
      "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr 2>/dev/null;"
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext.cnf;"
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out server.pem 2>/dev/null;"
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other.key -out other.pem 2>/dev/null;"
      "openssl req -newkey rsa:2048 -nodes -subj /CN=shipgate-client -keyout client.key -out client.csr 2>/dev/null;"
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out client.pem 2>/dev/null";
  auto r = run_command({"/bin/sh", "-c", script});
  if (r.status != 0) throw std::runtime_error("making the test PKI failed: " + r.output);
  return {d + "/ca.pem", d + "/server.pem", d + "/server.key", d + "/other.pem", d + "/client.pem", d + "/client.key"};
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace shipgate::testing
