# Build stage: the same setup script as a developer machine, then a release build.
FROM debian:12 AS build
WORKDIR /src
COPY scripts/setup scripts/setup
RUN scripts/setup --build-only
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
 && cmake --build build --target shipgate \
 && strip build/shipgate

# Runtime stage: only the shared libraries the binary links (and libpq5, which the PostgreSQL store
# opens at run time, and git, which reads the platform repository of config_source), a non-root user, a
# state directory.
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 libsqlite3-0 libyaml-cpp0.7 \
      libspdlog1.10 libfmt9 libboost-url1.81.0 libboost-json1.81.0 libdate-tz3 tzdata libprometheus-cpp-core1.0 libpq5 git \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/shipgate --create-home shipgate
COPY --from=build /src/build/shipgate /usr/local/bin/shipgate
USER shipgate
WORKDIR /var/lib/shipgate
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["/usr/local/bin/shipgate", "healthcheck", "http://127.0.0.1:8080"]
# The daemon raises its open-files limit to the hard limit the container gets (Docker's default is high);
# run with --ulimit nofile=65536:65536 where it is not, so server.max_connections fits.
# Mount your config at /etc/shipgate/shipgate.yaml; point its store at sqlite:/var/lib/shipgate/shipgate.db.
ENTRYPOINT ["/usr/local/bin/shipgate"]
CMD ["serve", "-c", "/etc/shipgate/shipgate.yaml"]
