/**
 * A `docker` command for kpt's container functions on machines without a Docker engine: `docker version` answers,
 * and `docker run [flags] IMAGE [ARGS]` runs IMAGE's entrypoint (with ARGS, else its default command) through
 * `buildah run --isolation chroot`, as the user, with the env and bind mounts kpt asked for; stdin, stdout, stderr
 * and the exit code pass through. `--network none` cannot be honoured by chroot isolation and is ignored; any flag
 * this does not know is an error (exit 125, as docker's own usage errors), never silently dropped.
 *
 * Used by test/packaging/image.test.ts: `installDockerShim()` puts an executable `docker` in a temp dir for PATH.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type ImageModule = typeof import('../../scripts/image.mjs');

/** Writes `<tempdir>/docker` running this shim; returns the directory to put first on PATH. */
export function installDockerShim(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kclrun-docker-shim-'));
  const shim = join(dir, 'docker');
  writeFileSync(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(fileURLToPath(import.meta.url))} "$@"\n`);
  chmodSync(shim, 0o755);
  return dir;
}

/** What `docker run` was asked to do. */
interface RunRequest {
  image: string;
  args: string[];
  user?: string;
  env: string[];
  mounts: string[];
}

class UsageError extends Error {}

/** Parses `docker run` flags as kpt passes them (`--flag value` or `--flag=value`). */
export function parseRun(argv: string[]): RunRequest {
  const req: RunRequest = { image: '', args: [], env: [], mounts: [] };
  const ignored = new Set(['--rm', '-i', '--interactive']);
  const withValue: Record<string, (v: string) => void> = {
    '--user': (v) => (req.user = v),
    '-u': (v) => (req.user = v),
    '-e': (v) => req.env.push(v),
    '--env': (v) => req.env.push(v),
    '--mount': (v) => req.mounts.push(v),
    '--network': () => {},
    '--security-opt': () => {},
    '--pull': () => {},
    '-a': () => {},
  };
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (ignored.has(flag) && inline === undefined) continue;
    const set = withValue[flag];
    if (!set) throw new UsageError(`docker-via-buildah: unsupported flag ${arg}`);
    set(inline ?? argv[++i] ?? '');
  }
  if (i >= argv.length) throw new UsageError('docker-via-buildah: no image');
  req.image = argv[i]!;
  req.args = argv.slice(i + 1);
  return req;
}

function passThrough(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', signal: AbortSignal.timeout(5 * 60_000) });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'version') {
    process.stdout.write('24.0.0-buildah-shim\n');
    return 0;
  }
  if (argv[0] !== 'run') throw new UsageError(`docker-via-buildah: unsupported command ${argv[0]}`);
  const req = parseRun(argv.slice(1));
  const image: ImageModule = await import(pathToFileURL(join(fileURLToPath(new URL('../../../', import.meta.url)), 'scripts', 'image.mjs')).href);
  const config = await image.inspectImage('buildah', req.image);
  if (!config) {
    process.stderr.write(`docker-via-buildah: no such image ${req.image}\n`);
    return 125;
  }
  const container = (await image.execOk('buildah', ['from', '--pull-never', req.image])).trim();
  try {
    for (const env of req.env) await image.execOk('buildah', ['config', '--env', env, container]);
    const argvInImage = [...(config.entrypoint ?? []), ...(req.args.length ? req.args : (config.cmd ?? []))];
    const flags = [...(req.user ? ['--user', req.user] : []), ...req.mounts.flatMap((m) => ['--mount', m])];
    return await passThrough('buildah', ['run', '--isolation', 'chroot', ...flags, container, '--', ...argvInImage]);
  } finally {
    await image.exec('buildah', ['rm', container]);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(err instanceof UsageError ? 125 : 1);
    },
  );
}
