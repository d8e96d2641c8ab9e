# syntax=docker/dockerfile:1
# One image for every service: gateway, twitch-api, worker, analysis (and twitch-fake for the
# demo profile). The compose file picks the binary with `command`.
#
#   docker build -t tca .
#
# builds the same release binaries as `cargo build --release` (what scripts/demo runs).

# --- build ---------------------------------------------------------------------------------------
FROM rust:1.95-bookworm AS build
WORKDIR /src

# Dependencies first, from the manifests alone, with stub sources: this layer is reused as long
# as Cargo.toml/Cargo.lock do not change, so editing code does not rebuild 300 crates.
COPY Cargo.toml Cargo.lock ./
COPY crates/common/Cargo.toml crates/common/build.rs crates/common/
COPY crates/gateway/Cargo.toml crates/gateway/
COPY crates/twitch-api/Cargo.toml crates/twitch-api/
COPY crates/worker/Cargo.toml crates/worker/
COPY crates/analysis/Cargo.toml crates/analysis/
COPY crates/twitch-fake/Cargo.toml crates/twitch-fake/
COPY crates/stack/Cargo.toml crates/stack/
COPY crates/bench/Cargo.toml crates/bench/
RUN for crate in crates/*/; do \
        mkdir -p "$crate/src" && echo '' > "$crate/src/lib.rs" && echo 'fn main() {}' > "$crate/src/main.rs"; \
    done \
    && cargo build --release --locked -p tca-gateway -p tca-twitch-api -p tca-worker -p tca-analysis -p tca-twitch-fake \
    && rm -rf crates/*/src

# Then the sources. Templates (askama), migrations (sqlx) and messages (Fluent, locales/) are
# compiled into the binaries.
COPY crates crates
COPY migrations migrations
COPY locales locales
COPY web web
RUN find crates -name '*.rs' -exec touch {} + \
    && cargo build --release --locked -p tca-gateway -p tca-twitch-api -p tca-worker -p tca-analysis -p tca-twitch-fake \
    && mkdir /out \
    && cp target/release/gateway target/release/twitch-api target/release/worker target/release/analysis target/release/twitch-fake /out/

# --- run -----------------------------------------------------------------------------------------
FROM debian:bookworm-slim
# Not pinned to a version on purpose: ca-certificates must follow Debian's updates, and a
# pinned version disappears from the mirror when Debian replaces it (the build would fail).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin tca
WORKDIR /app
COPY --from=build /out/ /usr/local/bin/
COPY web/static /app/web/static
COPY scenarios /app/scenarios
USER 10001:10001
ENV LOG_FORMAT=json \
    STATIC_DIR=/app/web/static
# Every binary answers `<binary> healthcheck` (GET /healthz on its own address); the compose
# file runs it for the service the container holds.
CMD ["gateway"]
