// Writing an answer as it is produced (Server-Sent Events): the header with chunked transfer coding,
// then each chunk the handler gives, each write bounded by the write timeout, then the last chunk.
// Include only from the server's own sources (Beast).
#pragma once
#include "server/wire.hpp"

namespace shipgate::server::wire {

template <class Stream>
class StreamSink final : public http::ChunkSink {
 public:
  StreamSink(Stream& stream, const config::ServerConfig& cfg) : stream_(stream), cfg_(cfg) {}

  asio::awaitable<bool> write(std::string chunk) override {
    if (broken_) co_return false;
    if (chunk.empty()) co_return true;  // an empty chunk would end the body
    lowest(stream_).expires_after(cfg_.write_timeout);
    auto [ec, n] = co_await asio::async_write(stream_, bhttp::make_chunk(asio::buffer(chunk)),
                                              asio::as_tuple(asio::use_awaitable));
    broken_ = static_cast<bool>(ec);
    co_return !broken_;
  }

  asio::awaitable<void> finish() {
    if (broken_) co_return;
    lowest(stream_).expires_after(cfg_.write_timeout);
    co_await asio::async_write(stream_, bhttp::make_chunk_last(), asio::as_tuple(asio::use_awaitable));
  }

 private:
  Stream& stream_;
  const config::ServerConfig& cfg_;
  bool broken_ = false;
};

// Sends `r`'s header and runs its stream. The connection is not kept alive afterwards.
template <class Stream>
asio::awaitable<void> write_streamed(Stream& stream, const http::Response& r, unsigned version,
                                     const std::string& request_id, const config::ServerConfig& cfg) {
  bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(r.status), version};
  res.set(bhttp::field::server, "shipgate");
  res.set(bhttp::field::content_type, r.content_type);
  res.set("X-Request-Id", request_id);
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(false);
  res.chunked(true);
  bhttp::response_serializer<bhttp::empty_body> serializer{res};
  lowest(stream).expires_after(cfg.write_timeout);
  auto [ec, n] = co_await bhttp::async_write_header(stream, serializer, asio::as_tuple(asio::use_awaitable));
  if (ec) co_return;
  StreamSink<Stream> sink(stream, cfg);
  co_await r.stream(sink);
  co_await sink.finish();
}

}  // namespace shipgate::server::wire
