# The backend replica (server/) as a container image.
#   npm ci && npm run build:server && docker build -t fulcrum-server .
# BASE defaults to node:20-slim; on machines without registry access build a local base
# first (live/docker/local-base.sh) and pass --build-arg BASE=fulcrum-node-base:local.
ARG BASE=node:20-slim
FROM ${BASE}
WORKDIR /app
COPY .build/server/server.mjs /app/server.mjs
ENV NODE_ENV=production
USER 1000
ENTRYPOINT ["node", "/app/server.mjs"]
