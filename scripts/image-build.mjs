#!/usr/bin/env node
// `npm run image:build`: builds ghcr.io/kclrun/kclrun:<package.json version> from the Dockerfile into the local
// image store.
//   - With a Docker engine (`docker info` answers): `docker build`, the Dockerfile's public base images.
//   - Else with buildah (no daemon): both base images are built from Debian packages with mmdebstrap — Debian's
//     nodejs, npm, gcc and binutils for the build stage; only nodejs and its libraries for the runtime stage — cached
//     as tarballs under ${KCLRUN_CACHE:-~/.cache/kclrun}/image/, imported under local names and passed to the
//     Dockerfile as BUILD_IMAGE / RUNTIME_IMAGE; then `buildah bud --isolation chroot --layers`. The build base
//     also trusts the certificates in NODE_EXTRA_CA_CERTS (a TLS-intercepting proxy's CA), the final image never.
// The image is labelled with the digest of its build context (scripts/image.mjs), so the tests can tell a stale one.
//
// Usage: node scripts/image-build.mjs [--if-builder]
//   --if-builder   when neither Docker nor buildah is here, say so and exit 0 (`npm test`'s pretest) instead of 1.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DIGEST_LABEL, ROOT, contextDigest, detectBuilder, exec, execOk, imageTag, inspectImage } from './image.mjs';

const MIRROR = process.env.KCLRUN_DEBIAN_MIRROR || 'http://deb.debian.org/debian';
const SUITE = 'trixie';
const BUILD_TIMEOUT_MS = 60 * 60_000;
const EXTRA_CA_PATH = '/usr/local/share/kclrun/extra-ca-certificates.crt';
const DPKG_SLIM = ['path-exclude=/usr/share/doc/*', 'path-exclude=/usr/share/man/*', 'path-exclude=/usr/share/locale/*'];

/**
 * The two base images: mmdebstrap arguments (besides suite, output and mirror). The runtime base is extracted, not
 * installed: no shell, no dpkg, no apt — Node.js and the libraries it links, like a distroless image.
 */
const BASES = {
  build: {
    args: ['--variant=minbase', '--include=nodejs,npm,gcc,libc6-dev,binutils,ca-certificates'],
  },
  runtime: {
    args: [
      '--variant=extract',
      '--include=nodejs',
      // usr-merged layout (the ELF interpreter is /lib64/...), a world-writable /tmp, a non-root user, no docs.
      `--extract-hook=for d in bin lib lib64 sbin; do [ -e "$1/$d" ] || ln -s "usr/$d" "$1/$d"; done`,
      '--extract-hook=rm -rf "$1"/usr/share/doc "$1"/usr/share/man "$1"/usr/share/lintian "$1"/usr/share/gdb "$1"/usr/share/bash-completion "$1"/usr/lib/*-linux-gnu/gconv',
      '--extract-hook=mkdir -p "$1/tmp" "$1/home/nonroot" && chmod 1777 "$1/tmp" && chown 65532:65532 "$1/home/nonroot"',
      `--extract-hook=printf 'root:x:0:0:root:/root:/sbin/nologin\\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\\n' > "$1/etc/passwd"`,
      `--extract-hook=printf 'root:x:0:\\nnogroup:x:65534:\\nnonroot:x:65532:\\n' > "$1/etc/group"`,
    ],
  },
};

function cacheDir() {
  return join(process.env.KCLRUN_CACHE || join(homedir(), '.cache', 'kclrun'), 'image');
}

/**
 * Certificates this machine's Node.js trusts beyond the public roots (NODE_EXTRA_CA_CERTS, e.g. a TLS-intercepting
 * egress proxy's CA): the build base trusts them too, so `npm ci` and the engine fetch work behind that proxy. The
 * runtime base never gets them.
 */
function extraCaCerts() {
  const path = process.env.NODE_EXTRA_CA_CERTS;
  return path && existsSync(path) ? readFileSync(path) : undefined;
}

/** A base's local image name and tarball; the key changes whenever its mmdebstrap arguments (or added CAs) do. */
function baseName(role, ca) {
  const key = (parts) => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12);
  const rootfs = key([SUITE, ...BASES[role].args, ...DPKG_SLIM]);
  const image = ca ? `${rootfs}-ca${key([ca.toString('base64')])}` : rootfs;
  return { image: `localhost/kclrun-base-${role}:${SUITE}-${image}`, tarball: join(cacheDir(), `${role}-${SUITE}-${rootfs}.tar`) };
}

/** Builds a base rootfs tarball with mmdebstrap unless cached, and imports it into buildah's store unless there. */
async function ensureBase(role, signal) {
  const ca = role === 'build' ? extraCaCerts() : undefined;
  const { image, tarball } = baseName(role, ca);
  if ((await exec('buildah', ['inspect', '--type', 'image', image], { signal })).code === 0) return image;
  if (!existsSync(tarball)) {
    mkdirSync(cacheDir(), { recursive: true });
    const started = Date.now();
    const partial = `${tarball}.partial`;
    rmSync(partial, { force: true });
    const dpkg = DPKG_SLIM.map((o) => `--dpkgopt=${o}`);
    const r = await exec('mmdebstrap', ['--quiet', '--format=tar', ...BASES[role].args, ...dpkg, SUITE, partial, MIRROR], { inherit: true, signal, timeoutMs: BUILD_TIMEOUT_MS });
    if (r.code !== 0) throw new Error(`mmdebstrap (${role} base) exited with ${r.code}; is mmdebstrap installed? (apt-get install mmdebstrap)`);
    renameSync(partial, tarball);
    console.log(`image: ${role} base rootfs built in ${Math.round((Date.now() - started) / 1000)} s: ${tarball}`);
  }
  const container = (await execOk('buildah', ['from', 'scratch'], { signal })).trim();
  try {
    await execOk('buildah', ['add', container, tarball, '/'], { signal, timeoutMs: 10 * 60_000 });
    await execOk('buildah', ['config', '--env', 'PATH=/usr/local/bin:/usr/bin:/bin', container], { signal });
    if (ca) {
      await execOk('buildah', ['copy', container, process.env.NODE_EXTRA_CA_CERTS, EXTRA_CA_PATH], { signal });
      await execOk('buildah', ['config', '--env', `NODE_EXTRA_CA_CERTS=${EXTRA_CA_PATH}`, container], { signal });
    }
    await execOk('buildah', ['commit', '--quiet', '--rm', container, image], { signal, timeoutMs: 10 * 60_000 });
  } catch (err) {
    await exec('buildah', ['rm', container]);
    throw err;
  }
  console.log(`image: imported ${image}`);
  return image;
}

async function build({ signal }) {
  const tag = imageTag();
  const digest = contextDigest();
  const builder = await detectBuilder({ signal });
  const started = Date.now();
  if (builder === 'docker') {
    const r = await exec('docker', ['build', '--label', `${DIGEST_LABEL}=${digest}`, '--tag', tag, '.'], { inherit: true, signal, timeoutMs: BUILD_TIMEOUT_MS });
    if (r.code !== 0) throw new Error(`docker build exited with ${r.code}`);
  } else if (builder === 'buildah') {
    const buildImage = await ensureBase('build', signal);
    const runtimeImage = await ensureBase('runtime', signal);
    const r = await exec(
      'buildah',
      ['bud', '--isolation', 'chroot', '--layers', '--force-rm', '--pull-never', '--build-arg', `BUILD_IMAGE=${buildImage}`, '--build-arg', `RUNTIME_IMAGE=${runtimeImage}`,
        '--label', `${DIGEST_LABEL}=${digest}`, '--tag', tag, ROOT],
      { inherit: true, signal, timeoutMs: BUILD_TIMEOUT_MS },
    );
    if (r.code !== 0) throw new Error(`buildah bud exited with ${r.code}`);
  } else {
    return undefined;
  }
  const image = await inspectImage(builder, tag, { signal });
  const mb = image?.size ? `${(image.size / 1e6).toFixed(1)} MB` : 'size unknown';
  console.log(`image: built ${tag} with ${builder} in ${Math.round((Date.now() - started) / 1000)} s (${mb} uncompressed)`);
  return tag;
}

const NO_BUILDER =
  'image: neither a Docker engine (`docker info` fails) nor buildah is available, so the image is NOT built and its ' +
  'tests will not run. Install buildah and mmdebstrap (apt-get install buildah mmdebstrap) or start Docker.';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());
build({ signal: controller.signal }).then(
  (tag) => {
    if (tag) return;
    console.error(NO_BUILDER);
    process.exitCode = process.argv.includes('--if-builder') ? 0 : 1;
  },
  (err) => {
    console.error(`image-build: ${err.message}`);
    process.exitCode = 1;
  },
);
