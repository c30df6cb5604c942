# Image of both daemons and the conformance harness (docker-compose.yml runs it).
#
# Build stage: the workspace in release, RocksDB's C++ included (libclang for its bindings;
# protoc comes vendored). Runtime stage: Debian slim, the three binaries, the compose
# configurations, a non-root user (uid 10001) owning the data, PKI and backup folders.
FROM rust:1.88-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang libclang-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p xds-registry -p xds-repository -p xds-conformance --bins \
 && mkdir /out \
 && cp target/release/xds-registry target/release/xds-repository target/release/xds-conformance /out/

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/xds --no-create-home xds \
 && mkdir -p /var/lib/xds/registry /var/lib/xds/repository /var/lib/xds/backups /pki /etc/xds \
 && chown -R 10001:10001 /var/lib/xds /pki
COPY --from=build /out/ /usr/local/bin/
COPY deploy/registry.toml /etc/xds/registry.toml
COPY deploy/repository.toml /etc/xds/repository.toml
COPY conformance/suites /usr/share/xds/conformance/suites
COPY conformance/known-failures.txt /usr/share/xds/conformance/known-failures.txt
USER 10001:10001
WORKDIR /var/lib/xds
ENV XDS_REGISTRY_CONFIG=/etc/xds/registry.toml \
    XDS_REPOSITORY_CONFIG=/etc/xds/repository.toml
# SOAP, gRPC, MLLP and admin listeners of the registry, then of the repository.
EXPOSE 8080 8090 2575 9090 8081 8091 9091
CMD ["xds-registry", "serve"]
