#include "store/postgres/pg_library.hpp"

#include <dlfcn.h>

namespace shipgate::orchestration {

namespace {

// The soname of libpq's ABI: PostgreSQL keeps it at 5 across server versions.
constexpr const char* kLibpqSoname = "libpq.so.5";

Libpq open_libpq() {
  Libpq pq;
  // Never closed: connections, results and notice callbacks may live until the process ends.
  void* handle = dlopen(kLibpqSoname, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    pq.error = why ? why : std::string("cannot open ") + kLibpqSoname;
    return pq;
  }
#define SHIPGATE_LIBPQ_RESOLVE(name)                                        \
  pq.name = reinterpret_cast<decltype(&::name)>(dlsym(handle, #name));     \
  if (!pq.name && pq.error.empty()) pq.error = std::string(kLibpqSoname) + " has no " #name;
  SHIPGATE_LIBPQ_FUNCTIONS(SHIPGATE_LIBPQ_RESOLVE)
#undef SHIPGATE_LIBPQ_RESOLVE
  return pq;
}

}  // namespace

const Libpq& libpq() {
  static const Libpq loaded = open_libpq();
  return loaded;
}

}  // namespace shipgate::orchestration
