# syntax=docker/dockerfile:1
#
# The sessiongraph collector as a container image (docs/container.md).
#
#   docker build -t sessiongraph .                          # target "embedded" (the default)
#   docker build --target server -t sessiongraph:server .   # no embedded engine, CLICKHOUSE_URL only
#
# Two runtime targets, built from the same stages:
#   embedded  the collector with chDB, the embedded ClickHouse engine (its native library is
#             about 540 MB): data in the /data volume, or in a ClickHouse server when
#             CLICKHOUSE_URL is set. The last stage, so a plain `docker build` makes this one.
#   server    the same collector without chDB (node_modules/chdb and node_modules/@chdb removed),
#             for a ClickHouse server only (CLICKHOUSE_URL): about 540 MB smaller. The collector
#             loads chDB only in embedded mode (src/storage/client.ts), so nothing misses it;
#             without CLICKHOUSE_URL it stops at start saying this image has no embedded engine.
#             docker-compose.yml builds this one.
#
# Both run as the unprivileged user `node` (uid 1000, gid 1000), listen on 0.0.0.0:4318
# (OTLP/HTTP, API, dashboard) and :4317 (OTLP/gRPC), and refuse to start on 0.0.0.0 without API
# keys: set SESSIONGRAPH_API_KEYS (or SESSIONGRAPH_API_KEYS_FILE), or SESSIONGRAPH_INSECURE=true
# when something else guards the network.
#
# Base image: Node.js 20.20.2 on Debian 12 "bookworm", slim variant. Debian, not Alpine: chDB's
# prebuilt library exists for glibc only. Pin its digest as well where builds must be
# reproducible: node:20.20.2-bookworm-slim@sha256:<digest>.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---------------------------------------------------------------------------------------------
# build: every dependency (dev included: tsc), then `npm run build` → dist/
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Package files first: this layer is reused until they change.
COPY package.json package-lock.json ./
COPY packages/sdk/package.json packages/sdk/
# `npm install`, not `npm ci`: the lock file lacks chDB's per-platform packages for other
# platforms than the one it was written on, and `npm ci` refuses such a lock (see .ci/run);
# `npm install` keeps every locked version and adds this platform's package.
# --ignore-scripts: `prepare` (npm run build) would run now, before the sources are here; it runs
# below instead. No dependency needs its install script (chdb's is empty, protobufjs's only warns).
RUN --mount=type=cache,target=/root/.npm \
    npm install --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/ scripts/
COPY packages/sdk/ packages/sdk/
COPY src/ src/
COPY collector/ collector/
COPY bin/ bin/
COPY LICENSE ./
RUN npm run build \
 && mkdir /out \
 && cp -R package.json LICENSE bin dist /out/

# ---------------------------------------------------------------------------------------------
# prod-deps: production dependencies only, installed afresh (no tsc, tsx, vitest, frameworks)
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/sdk/package.json packages/sdk/
# Dev packages that also satisfy an optional peer dependency of a production one (chdb names
# @mastra/core, ai and zod) would come in with --omit=dev alone: the lock marks them dev-or-
# optional. With devDependencies deleted from this stage's package.json they are optional peers
# only, which npm 11 leaves out and npm 10 (node:20's) leaves out with --omit=peer: 229 packages,
# about 110 MB (measured with both; the trees are then identical). No production dependency needs
# a peer that is not a dependency of ours (@clickhouse/client, @opentelemetry/api are): keep it
# so, or --omit=peer drops it. Versions still come from the lock file.
# --ignore-scripts: `prepare` needs tsc, which --omit=dev leaves out (dist/ comes from `build`).
# The workspace link node_modules/sessiongraph-sdk is removed: the image has no packages/sdk
# (the collector runs the SDK's built copy in dist/packages/sdk), and its dependencies are the
# collector's own.
RUN --mount=type=cache,target=/root/.npm \
    npm pkg delete devDependencies \
 && npm install --omit=dev --omit=peer --ignore-scripts --no-audit --no-fund \
 && rm -f node_modules/sessiongraph-sdk

# The same, without the embedded engine: for the "server" target.
FROM prod-deps AS prod-deps-server
RUN rm -rf node_modules/chdb node_modules/@chdb

# ---------------------------------------------------------------------------------------------
# runtime: what both targets share (no application files yet: dependencies go in first, so a
# code change does not rebuild their layer)
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="sessiongraph" \
      org.opencontainers.image.description="OpenTelemetry trace collector for AI agents: agent sessions, decisions and cost in ClickHouse" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    SESSIONGRAPH_HOST=0.0.0.0 \
    SESSIONGRAPH_DATA_DIR=/data
WORKDIR /app
# The embedded engine's data directory, writable by `node` only; the application files stay
# owned by root, so the collector cannot change its own code.
RUN mkdir /data && chown node:node /data && chmod 0750 /data
USER node
EXPOSE 4318 4317
# Liveness: the process answers HTTP (/healthz needs no API key). Node's own fetch, as slim
# images have no curl or wget. /readyz (storage answers) is for load balancers, not for restarts.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SESSIONGRAPH_PORT||4318)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM: stop accepting, store what was accepted, exit 0 within 30 s; give `docker stop` a
# longer timeout than its default 10 s (docker stop -t 40, compose stop_grace_period: 40s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/bin/sessiongraph.mjs"]
CMD ["serve"]

# ---------------------------------------------------------------------------------------------
# server: ClickHouse server only (CLICKHOUSE_URL), no chDB.
# ---------------------------------------------------------------------------------------------
FROM runtime AS server
COPY --from=prod-deps-server /app/node_modules/ node_modules/
COPY --from=build /out/ ./

# ---------------------------------------------------------------------------------------------
# embedded (default): chDB included; data in /data unless CLICKHOUSE_URL is set
# ---------------------------------------------------------------------------------------------
FROM runtime AS embedded
COPY --from=prod-deps /app/node_modules/ node_modules/
COPY --from=build /out/ ./
VOLUME ["/data"]
