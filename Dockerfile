# syntax=docker/dockerfile:1
# The governor's image (design §8): Node 24 running the TypeScript sources directly (type stripping), production
# dependencies only, as a non-root user, with nothing written outside the mounted volumes (config/manager runs
# it with a read-only root filesystem). What goes in is package.json's "files", exactly what `npm pack` ships;
# test/package.test.ts installs that same tarball the same way and runs it on Node 24.
#   docker build -t REGION-docker.pkg.dev/PROJECT/tai/tai:0.1.0 .
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm pack --ignore-scripts --pack-destination /tmp \
 && mkdir /app \
 && tar -xzf /tmp/tai-*.tgz -C /app --strip-components=1 \
 && mv node_modules /app/node_modules

FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
COPY --from=build /app /app
ENV NODE_ENV=production
USER 65532:65532
EXPOSE 8080 8443
ENTRYPOINT ["/nodejs/bin/node", "/app/cli/tai.ts"]
CMD ["--help"]
