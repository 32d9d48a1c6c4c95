# One image for the backend replica (server/) and the proxy (live/):
#   npm ci && npm run build:bundles && docker build -t fulcrum .
#   docker run --network host fulcrum /app/server.mjs --id s1 --port 9001
#   docker run --network host fulcrum /app/proxy.mjs --listen 127.0.0.1:8080 --backend http://127.0.0.1:9001
# BASE defaults to node:20-slim; on machines without registry access build a local base
# first (live/docker/local-base.sh) and pass --build-arg BASE=fulcrum-node-base:local.
ARG BASE=node:20-slim
FROM ${BASE}
WORKDIR /app
COPY .build/app/server.mjs .build/app/proxy.mjs /app/
ENV NODE_ENV=production
USER 1000
ENTRYPOINT ["node"]
CMD ["/app/server.mjs"]
