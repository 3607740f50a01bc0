// A throwaway CA and a server certificate for 127.0.0.1, made with the openssl CLI at test time.
#pragma once
#include <string>

namespace shipgate::testing {

struct TestPki {
  std::string ca_pem_file;      // trusted by clients under test
  std::string server_cert_file;
  std::string server_key_file;
  std::string other_ca_pem_file;  // a CA that did not sign the server certificate
  std::string client_cert_file;   // a client certificate signed by the CA (for mutual TLS)
  std::string client_key_file;
};

// Writes the files into `dir`; throws on failure.
TestPki make_test_pki(const std::string& dir);

std::string read_text_file(const std::string& path);

}  // namespace shipgate::testing
