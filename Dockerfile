# syntax=docker/dockerfile:1
# One image for both roles:
#   - the KRM function container: `kpt fn eval --image ghcr.io/kclrun/kclrun:<version>`, kustomize `container:`
#     functions (the default command `fn` reads a ResourceList on stdin and writes one on stdout);
#   - the controller: `kclrun controller` (the Deployment from `kclrun install` passes these args).
# The image tag, `kclrun --version` and `kclrun install` all take the version from package.json.
#
# `npm run image:build` builds it with Docker when a Docker engine answers; otherwise it builds both base images
# from Debian packages (mmdebstrap) and passes their local names below (scripts/image-build.mjs).
#   BUILD_IMAGE:   Node.js >= 20 with npm, a C compiler and `nm` (the engine's CPython stub, crash guard and host are compiled here).
#   RUNTIME_IMAGE: a glibc Node.js >= 20 runtime; `node` is looked up on PATH (distroless keeps it in /nodejs/bin).
ARG BUILD_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

# --- build: compile TypeScript and fetch the pinned KCL engine exactly as `npm run engine:fetch` does ---
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/fetch-engine.mjs scripts/bundle.mjs scripts/crash-guard.c scripts/engine-host.c ./scripts/
# The engine (PyPI kcl-lib wheel, sha256-pinned in package.json), its CPython stub, the CLI's crash guard
# (libkclguard.so: `kclrun fn` runs the engine in its own process and still reports a crashing program) and the
# engine host (kclrun-engine-host: the controller's engine workers, a few MiB each), into /opt/kclrun.
RUN KCLRUN_CACHE=/opt/kclrun node scripts/fetch-engine.mjs
COPY krm ./krm
COPY fn ./fn
COPY controller ./controller
COPY cli ./cli
# Type declarations, source maps and docs of the dependencies are not needed to run them.
RUN npx tsc -p tsconfig.json && node scripts/bundle.mjs && npm prune --omit=dev --no-audit --no-fund \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.md' \) -delete

# --- runtime: Node.js and the app only (no compiler, no npm, no npm cache), non-root ---
FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY --from=build /opt/kclrun/engine /opt/kclrun/engine
# glibc's mmap threshold fixed, as bin/kclrun's shebang sets it (see the comment there).
ENV KCLRUN_CACHE=/opt/kclrun NODE_ENV=production PATH=/nodejs/bin:/usr/local/bin:/usr/bin:/bin MALLOC_MMAP_THRESHOLD_=131072
USER 65532:65532
ENTRYPOINT ["node", "--max-semi-space-size=2", "--no-opt", "--optimize-for-size", "/app/bin/kclrun"]
CMD ["fn"]
