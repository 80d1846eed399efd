# Sockudo's image for compose.yaml and multi-node/compose.yaml, built from crates.io at the
# version the tests use.
#   docker build -f deploy/sockudo.Dockerfile -t confab-sockudo deploy
# Its config (with the app secret) is mounted at run time as a compose secret, never baked in.
FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends protobuf-compiler libprotobuf-dev pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
# As scripts/bootstrap.sh: memory drivers for one node (compose.yaml) and the Redis adapter and
# cache for a cluster of nodes (multi-node/compose.yaml); no other backends.
RUN cargo install --locked sockudo --version 5.2.0 --no-default-features --features local,redis --root /out

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/bin/sockudo /usr/local/bin/sockudo
USER 65532:65532
# Sockudo also reads ./config/config.toml: start where there is none.
WORKDIR /
EXPOSE 6001
ENTRYPOINT ["/usr/local/bin/sockudo"]
CMD ["--config", "/run/secrets/sockudo.toml"]
