# secretlink operator image: built with the full toolchain, run as a non-root user on a read-only root
# filesystem with the bundled operator (scripts/build.ts) and the production dependencies it leaves unbundled.
#
# NODE_IMAGE is the public Node.js 24 image, pinned to the release package.json pins. The end-to-end tests,
# which cannot reach a registry, replace it with a Node.js base assembled on the machine (test/env/image).
ARG NODE_IMAGE=docker.io/library/node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY scripts/build.ts scripts/ascii-source.ts ./scripts/
COPY src ./src
RUN node scripts/build.ts && npm prune --omit=dev

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
USER 65532:65532
EXPOSE 8080
# A young generation of 1 MiB semi-spaces (Node's default grows them to 16 MiB) and V8's memory-over-speed
# choices: with 10,000 references and 1,000 active Jobs the operator holds about 80 MiB of live heap, and
# without these V8 keeps two to three times that allocated (docs/benchmarks.md, "Memory").
ENTRYPOINT ["node", "--max-semi-space-size=1", "--optimize-for-size", "dist/main.js"]
