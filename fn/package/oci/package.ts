/**
 * KCL packages as OCI artifacts, laid out as kpm lays them (pkg/oci/oci.go): an image manifest with the empty config,
 * one layer — the package root as a tar (plain, kpm ≤ 0.12.4; gzipped, later) titled `<name>_<version>.tar|.tgz` —
 * and the `org.kcllang.package.*` annotations, `sum` being kpm's directory hash. Pulling verifies every digest and
 * unpacks with the shared safe untar (no links, no escapes, size caps) into a temp dir renamed into place.
 */
import { mkdirSync, mkdtempSync, openSync, readSync, closeSync, readdirSync, lstatSync, renameSync, rmSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ArchiveError, loadTar, unpackArchive } from '../../archive/untar.js';
import { hashDir } from '../dir-hash.js';
import { readKclMod } from '../kcl-mod.js';
import { RegistryContentError, type Descriptor, type OciManifest, type RegistryClient } from './client.js';

export const ANNOTATION_NAME = 'org.kcllang.package.name';
export const ANNOTATION_VERSION = 'org.kcllang.package.version';
export const ANNOTATION_SUM = 'org.kcllang.package.sum';
const TITLE = 'org.opencontainers.image.title';
const TAR = 'application/vnd.oci.image.layer.v1.tar';
const EMPTY_CONFIG: Descriptor = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  // oras-go's DescriptorEmptyJSON (kpm packs with it) embeds the two bytes `{}`.
  data: 'e30=',
};

/** Caps on a pulled package. */
export interface PackageLimits {
  /** Compressed layer bytes, and decompressed bytes. Default 64 MiB. */
  maxBytes?: number;
  /** Tar entries. Default 20 000. */
  maxEntries?: number;
}

/** What a pull found. */
export interface PulledPackage {
  /** The manifest digest. */
  digest: string;
  /** The manifest's annotations (`org.kcllang.package.sum` among them, if the pusher set it). */
  annotations: Record<string, string>;
}

/** The files kpm packs: everything under `dir` but paths containing `.git` or `.tar`, directories included. */
function packFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const rel = relative(dir, p);
      if (rel.includes('.git') || rel.includes('.tar')) continue;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) continue;
      out.push(rel);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** Pushes the package at `dir` as `repository:tag` the way `kcl mod push` does; returns the manifest digest. */
export async function pushPackage(client: RegistryClient, repository: string, tag: string, dir: string, opts: { gzip?: boolean } = {}): Promise<string> {
  const mod = readKclMod(join(dir, 'kcl.mod'));
  const name = mod.name ?? repository.split('/').pop()!;
  const version = mod.version ?? tag;
  const chunks: Buffer[] = [];
  const { create: createTar } = await loadTar();
  for await (const chunk of createTar({ cwd: dir, portable: true, noDirRecurse: true, mtime: new Date(0) }, packFiles(dir))) chunks.push(chunk as Buffer);
  const tar = Buffer.concat(chunks);
  const gzip = opts.gzip ?? true;
  const layerBytes = gzip ? gzipSync(tar) : tar;
  const mediaType = gzip ? `${TAR}+gzip` : TAR;
  const layer = await client.pushBlob(repository, layerBytes, mediaType, { [TITLE]: `${name}_${version}.${gzip ? 'tgz' : 'tar'}` });
  await client.pushBlob(repository, Buffer.from('{}'), EMPTY_CONFIG.mediaType);
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: mediaType,
    config: EMPTY_CONFIG,
    layers: [layer],
    annotations: {
      [ANNOTATION_NAME]: name,
      [ANNOTATION_VERSION]: version,
      [ANNOTATION_SUM]: hashDir(dir),
      'org.opencontainers.image.created': new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    },
  };
  return client.pushManifest(repository, tag, manifest);
}

/** The one package layer: kpm takes the single `*.tar` layer, else the single `*.tgz`; titles absent, the single layer. */
function packageLayer(client: RegistryClient, repository: string, manifest: OciManifest): Descriptor {
  const titled = (ext: string) => manifest.layers.filter((l) => l.annotations?.[TITLE]?.endsWith(ext));
  for (const ext of ['.tar', '.tgz']) {
    const layers = titled(ext);
    if (layers.length === 1) return layers[0]!;
    if (layers.length > 1) throw new RegistryContentError(client.registry, repository, `the manifest has ${layers.length} ${ext} layers; a KCL package has one`);
  }
  if (manifest.layers.length === 1) return manifest.layers[0]!;
  throw new RegistryContentError(client.registry, repository, `the manifest has ${manifest.layers.length} layers and none titled *.tar or *.tgz; a KCL package has one`);
}

function isGzip(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/**
 * Pulls `repository` at `reference` (tag or digest) into `dest`, which must not exist yet: downloaded and unpacked
 * beside it, then renamed into place, so `dest` never holds half a package. @throws RegistryError
 */
export async function pullPackage(
  client: RegistryClient,
  repository: string,
  reference: string,
  dest: string,
  limits: PackageLimits = {},
  signal?: AbortSignal,
  /** Sees the unpacked package before it is moved into place; throws to refuse it. */
  verify?: (dir: string, annotations: Record<string, string>) => void,
): Promise<PulledPackage> {
  const maxBytes = limits.maxBytes ?? 64 * 1024 * 1024;
  const { manifest, digest } = await client.manifest(repository, reference);
  const layer = packageLayer(client, repository, manifest);
  const work = mkdtempSync(join(dirname(dest), `.pull-${repository.split('/').pop()}-`));
  try {
    const archive = join(work, 'layer');
    await client.blobToFile(repository, layer, archive, maxBytes);
    const unpacked = join(work, 'pkg');
    try {
      mkdirSync(unpacked);
      await unpackArchive(archive, unpacked, { maxBytes, maxEntries: limits.maxEntries ?? 20_000, gzip: isGzip(archive), refuseLinks: true, what: `package ${repository}:${reference}` }, signal);
    } catch (err) {
      if (err instanceof ArchiveError) throw new RegistryContentError(client.registry, repository, err.message, undefined, { cause: err });
      throw err;
    }
    verify?.(unpacked, manifest.annotations ?? {});
    // Another process may have put the same package there meanwhile: theirs stays, ours is discarded.
    try {
      renameSync(unpacked, dest);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!(code === 'ENOTEMPTY' || code === 'EEXIST') || !existsSync(dest)) throw err;
    }
    return { digest, annotations: manifest.annotations ?? {} };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
