// The kclrun container image as the build script and the image tests see it: its tag, the digest of the build
// context it was built from, which builder this machine has (a Docker engine, else buildah), and how to inspect and
// run it with that builder. No Docker daemon is needed: buildah runs commands in an image with `--isolation chroot`.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in scripts/). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The image label that records which build context the image was built from. */
export const DIGEST_LABEL = 'io.kclrun.context-digest';

/** `ghcr.io/kclrun/kclrun:<package.json version>`: the name the README and `kclrun install` use. */
export function imageTag() {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  return `ghcr.io/kclrun/kclrun:${version}`;
}

/** An external command that failed or could not start; `stderr` holds what it said. */
export class CommandError extends Error {
  constructor(command, code, stderr, cause) {
    super(`${command} ${code === null ? 'did not finish' : `exited with ${code}`}${stderr ? `: ${stderr.trim().split('\n').slice(-5).join('\n')}` : ''}`, { cause });
    this.name = 'CommandError';
    this.command = command;
    this.code = code;
    this.stderr = stderr;
  }
}

/**
 * Runs a command; resolves with its exit code and output. `inherit` streams output to this process instead.
 * Rejects with CommandError only when it cannot start or is aborted / times out.
 */
export function exec(command, args, { input, timeoutMs = 60_000, signal, inherit = false, env, cwd = ROOT } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: env ? { ...process.env, ...env } : process.env,
      stdio: [input === undefined ? 'ignore' : 'pipe', inherit ? 'inherit' : 'pipe', inherit ? 'inherit' : 'pipe'],
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
    });
    const out = [];
    const err = [];
    child.stdout?.on('data', (b) => out.push(b));
    child.stderr?.on('data', (b) => err.push(b));
    child.on('error', (e) => reject(new CommandError(`${command} ${args.join(' ')}`, null, Buffer.concat(err).toString('utf8'), e)));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    if (input !== undefined) child.stdin.end(input);
  });
}

/** Runs a command and returns its stdout; a non-zero exit is a CommandError. */
export async function execOk(command, args, options) {
  const r = await exec(command, args, options);
  if (r.code !== 0) throw new CommandError(`${command} ${args.join(' ')}`, r.code, r.stderr);
  return r.stdout;
}

/**
 * The builder on this machine: 'docker' when a Docker engine answers (`docker info`; the client alone is not enough),
 * else 'buildah' when buildah is installed, else undefined.
 */
export async function detectBuilder({ signal } = {}) {
  const answers = async (command, args) => {
    try {
      return (await exec(command, args, { timeoutMs: 20_000, signal })).code === 0;
    } catch (err) {
      if (signal?.aborted) throw err;
      return false; // not installed (ENOENT) or no answer within the timeout
    }
  };
  if (await answers('docker', ['info', '--format', '{{.ServerVersion}}'])) return 'docker';
  if (await answers('buildah', ['--version'])) return 'buildah';
  return undefined;
}

/** The build-context sources the Dockerfile COPYs (not `--from=` a stage), as repository-relative paths. */
export function copiedSources(dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')) {
  return dockerfile
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l))
    .flatMap((l) => l.replace(/^COPY\s+/, '').split(/\s+/).slice(0, -1));
}

function listFiles(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((name) => listFiles(join(path, name)));
}

/** sha256 over the Dockerfile and every file it copies from the build context: equal digests, equal images. */
export function contextDigest() {
  const hash = createHash('sha256');
  const files = ['Dockerfile', ...copiedSources()].flatMap((p) => listFiles(join(ROOT, p))).sort();
  for (const file of files) {
    hash.update(`${relative(ROOT, file)}\0`);
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** What the tests check in an image's config. */
function configOf(builder, inspected) {
  if (builder === 'docker') {
    const [img] = inspected;
    return { user: img.Config.User, entrypoint: img.Config.Entrypoint, cmd: img.Config.Cmd, env: img.Config.Env, labels: img.Config.Labels ?? {}, size: img.Size };
  }
  const c = inspected.OCIv1.config;
  return { user: c.User, entrypoint: c.Entrypoint, cmd: c.Cmd, env: c.Env, labels: c.Labels ?? {}, size: undefined };
}

/** The sum of a manifest's layer sizes when its layers are stored uncompressed (as buildah stores them locally). */
function uncompressedSize(manifest) {
  const layers = manifest.layers ?? [];
  return layers.length && layers.every((l) => /\.tar$/.test(l.mediaType)) ? layers.reduce((sum, l) => sum + l.size, 0) : undefined;
}

/** The image's config (user, entrypoint, cmd, env, labels) and its uncompressed size in bytes; undefined if absent. */
export async function inspectImage(builder, tag, { signal } = {}) {
  const args = builder === 'docker' ? ['image', 'inspect', tag] : ['inspect', '--type', 'image', tag];
  const r = await exec(builder, args, { signal });
  if (r.code !== 0) return undefined;
  const config = configOf(builder, JSON.parse(r.stdout));
  if (builder === 'buildah') config.size = uncompressedSize(JSON.parse(JSON.parse(r.stdout).Manifest));
  return config;
}

/**
 * Opens the image for running commands in it as its configured user (or `user`), with its environment (and no
 * network with docker; buildah's chroot isolation cannot take the network away).
 * `run(argv, input, {user})` runs argv (not the entrypoint: pass it yourself) and resolves with {code, stdout, stderr}.
 * Close it when done.
 */
export async function openImage(builder, tag, { signal } = {}) {
  const userArgs = (user) => (user ? ['--user', user] : []);
  if (builder === 'docker') {
    return {
      run: (argv, input = '', { user } = {}) =>
        exec('docker', ['run', '--rm', '-i', '--network', 'none', ...userArgs(user), '--entrypoint', argv[0], tag, ...argv.slice(1)], { input, signal, timeoutMs: 120_000 }),
      close: async () => {},
    };
  }
  const container = (await execOk('buildah', ['from', '--pull-never', tag], { signal })).trim();
  return {
    run: (argv, input = '', { user } = {}) =>
      exec('buildah', ['run', '--isolation', 'chroot', ...userArgs(user), container, '--', ...argv], { input, signal, timeoutMs: 120_000 }),
    close: async () => {
      await execOk('buildah', ['rm', container]);
    },
  };
}
