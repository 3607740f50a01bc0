#pragma once
// libpq, opened when the first PostgreSQL connection is made instead of linked into the binary.
//
// Debian's libpq brings Kerberos, LDAP, SASL and GnuTLS with it, and GnuTLS and p11-kit initialise
// themselves as soon as they are mapped: linked, they cost every daemon about 3.5 MiB of resident
// memory, SQLite ones included, for a store they never open (bench/report, "RSS after one HTTPS call").
// Opened on demand, only a daemon on the PostgreSQL store maps them. The function types come from
// libpq's own header, so a call through this table is checked by the compiler like a direct one.
#include <libpq-fe.h>

#include <string>

namespace shipgate::orchestration {

// Every libpq function the store calls: adding one here is all a new call needs.
#define SHIPGATE_LIBPQ_FUNCTIONS(X)                                                                        \
  X(PQclear) X(PQcmdTuples) X(PQconnectPoll) X(PQconnectStart) X(PQconsumeInput) X(PQerrorMessage)          \
  X(PQfinish) X(PQflush) X(PQfreemem) X(PQgetResult) X(PQgetisnull) X(PQgetlength) X(PQgetvalue) X(PQisBusy) \
  X(PQnotifies) X(PQntuples) X(PQresultErrorField) X(PQresultErrorMessage) X(PQresultStatus) X(PQsendPrepare) \
  X(PQsendQuery) X(PQsendQueryParams) X(PQsendQueryPrepared) X(PQsetNoticeProcessor) X(PQsetnonblocking)      \
  X(PQsocket) X(PQstatus) X(PQtransactionStatus)

struct Libpq {
#define SHIPGATE_LIBPQ_MEMBER(name) decltype(&::name) name = nullptr;
  SHIPGATE_LIBPQ_FUNCTIONS(SHIPGATE_LIBPQ_MEMBER)
#undef SHIPGATE_LIBPQ_MEMBER
  std::string error;  // why the library could not be opened; empty once every function is found
};

// Opens libpq (libpq.so.5, Debian's `libpq5`) on the first call and returns the same table after;
// safe from any thread. A non-empty `error` means no member may be called.
const Libpq& libpq();

}  // namespace shipgate::orchestration
