// Checks on a request's framing and path, made once before admission and routing. Pure functions of
// the bytes, so they are tested without sockets.
#pragma once
#include <string_view>
#include <vector>

namespace shipgate::server {

// A path in the one form the router knows: starts with '/', no empty segment ("//"), no "." or ".."
// segment, no trailing '/' (except "/" itself). Anything else is answered 404 before the rate limits
// or the router see it, so "//api/..." can never reach an API route past the API's limits.
bool is_canonical_path(std::string_view path);

// RFC 9112 6.3: a request body is framed by Content-Length or by `Transfer-Encoding: chunked`. Any other
// transfer coding ("gzip", "chunked, identity", "xchunked", or two Transfer-Encoding fields) cannot be
// framed, and a server that read it as "no body" would parse the rest as the next request.
// `values` are the Transfer-Encoding field values of one request, in order.
bool transfer_encoding_acceptable(const std::vector<std::string_view>& values);

// Whether a request header (request line and fields, up to the blank line) continues a field on the
// next line (obs-fold: CRLF followed by a space or tab). RFC 9112 5.2 lets a server refuse it with 400;
// shipgate does, since a proxy in front may have read the folded line differently.
bool has_obs_fold(std::string_view header);

}  // namespace shipgate::server
