# One image for the backend replica (server/) and the proxy (live/proxy/); the command picks which:
#   docker build -t fulcrum .
#   docker run fulcrum                                   (a replica: /app/server.mjs on 0.0.0.0:9001)
#   docker run -e FULCRUM_HEALTHCHECK_URL=http://127.0.0.1:9090/healthz fulcrum \
#     /app/proxy.mjs --listen 0.0.0.0:8080 --admin 0.0.0.0:9090 --discover server:9001
# BASE defaults to node:24-slim. Without registry access build a local look-alike first
# (live/docker/local-base.sh) and build with --network host --build-arg BASE=fulcrum-node24-base:local.
ARG BASE=node:24-slim

# Build stage: the sources bundled by esbuild into one ESM file per program.
FROM ${BASE} AS build
WORKDIR /src
# Dependencies first, so a source change reuses the cached `npm ci` layer.
# The postinstall script (scripts/node24.mjs) finds the base's Node 24 and does nothing.
COPY package.json package-lock.json ./
COPY scripts/node24.mjs scripts/
RUN npm ci --omit=dev --no-audit --no-fund
COPY core core
COPY server server
COPY http http
COPY live live
RUN npm run build:bundles

# Runtime stage: node and two bundles; no npm tree, no sources.
FROM ${BASE}
WORKDIR /app
COPY --from=build /src/.build/app/server.mjs /src/.build/app/proxy.mjs /app/
COPY live/docker/healthcheck.mjs /app/healthcheck.mjs
ENV NODE_ENV=production FULCRUM_HEALTHCHECK_URL=http://127.0.0.1:9001/heartbeat
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 1000:1000
# 9001 replica; 8080 proxy data; 9090 proxy admin (/healthz, /readyz, /metrics).
EXPOSE 9001 8080 9090
# One HEALTHCHECK for both programs: the URL comes from the environment (the proxy sets its
# admin /healthz). Written in node because node:24-slim has no curl or wget.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
ENTRYPOINT ["node"]
CMD ["/app/server.mjs", "--host", "0.0.0.0", "--port", "9001"]
