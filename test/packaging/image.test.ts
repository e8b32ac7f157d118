/**
 * The built container image (`npm run image:build`, run by `npm test`'s pretest), run with this machine's builder:
 * docker when an engine answers, else buildah (`buildah run --isolation chroot`, no daemon). Its entrypoint with the
 * default command is the KRM function, also under the real `kpt fn eval --image` (through a `docker` shim onto buildah
 * where no engine runs); `--version`, `install` and `controller --help` run inside it too.
 * Without docker or buildah these tests do not run, and say so (a skipped test and a warning), never a silent pass.
 */
import test from 'ava';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { repoRoot, toolPath } from '../harness/tools.js';
import { kclrun, tempDir, writeTree } from '../support/kclrun.js';
import { installDockerShim } from '../support/docker-via-buildah.js';

// The machine's kpt: /usr/bin/kpt links to the Cloud SDK's; either path will do.
const KPT = ['/usr/bin/kpt', '/usr/lib/google-cloud-sdk/bin/kpt'].find((p) => existsSync(p)) ?? '/usr/bin/kpt';

type ImageModule = typeof import('../../scripts/image.mjs');
type OpenImage = import('../../scripts/image.mjs').OpenImage;
type ImageConfig = import('../../scripts/image.mjs').ImageConfig;

const root = repoRoot();
const image: ImageModule = await import(pathToFileURL(join(root, 'scripts', 'image.mjs')).href);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; kclEngine: { package: string; version: string } };
const tag = image.imageTag();
const builder = await image.detectBuilder();

const resourceList = (source: string) => `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: cfg # the config
  data:
    mode: '0644'
functionConfig:
  apiVersion: krm.kcl.dev/v1alpha1
  kind: KCLRun
  metadata:
    name: set-team
  spec:
    params:
      team: payments
    source: |
${source.replace(/^/gm, '      ')}`;

const LABEL = 'items = [i | {metadata.labels.team: option("params").team} for i in option("items")]\n';
const DENY = 'assert len(option("items")) == 0, "no resources allowed here"\nitems = option("items")\n';
const RECURSION = 'f = lambda x: int -> int { f(x + 1) }\na = f(1)\n';

if (!builder) {
  const why = 'image tests NOT RUN: neither a Docker engine nor buildah is available (apt-get install buildah mmdebstrap)';
  console.warn(`kclrun: ${why}`);
  test.skip(why, () => {});
} else {
  let config: ImageConfig;
  let opened: OpenImage;

  test.before(async () => {
    const found = await image.inspectImage(builder, tag);
    if (!found) throw new Error(`${tag} is not in ${builder}'s image store: run \`npm run image:build\``);
    if (found.labels[image.DIGEST_LABEL] !== image.contextDigest()) {
      throw new Error(`${tag} was built from other sources than these: run \`npm run image:build\``);
    }
    config = found;
    opened = await image.openImage(builder, tag);
  });
  test.after.always(async () => {
    await opened?.close();
  });

  /** kpt and kustomize run `docker run ... --user nobody ... IMAGE`; without a Docker engine a shim runs it through buildah. */
  const runtimeEnv = (): Record<string, string> => (builder === 'buildah' ? { PATH: `${installDockerShim()}:${process.env.PATH}` } : {});

  /** Runs the image as a container runtime would: its entrypoint, then `args` or else its default command. */
  const runImage = (args: string[] | undefined, input = '') => opened.run([...(config.entrypoint ?? []), ...(args ?? config.cmd ?? [])], input);

  test('image: the default command is the KRM function, with the same output as the exec function', async (t) => {
    const input = resourceList(LABEL);
    const r = await runImage(undefined, input);
    t.is(r.code, 0, r.stderr);
    t.is(
      r.stdout,
      `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: cfg # the config
    labels:
      team: payments
  data:
    mode: '0644'
functionConfig:
  apiVersion: krm.kcl.dev/v1alpha1
  kind: KCLRun
  metadata:
    name: set-team
  spec:
    params:
      team: payments
    source: |
      ${LABEL}`,
    );
    const host = kclrun(['fn'], { input });
    t.is(host.code, 0, host.stderr);
    t.is(r.stdout, host.stdout);
    t.log(`in-image kclrun fn output:\n${r.stdout}`);
  });

  test('image: as kpt and kustomize run it (--user nobody), the function gives the same output', async (t) => {
    const input = resourceList(LABEL);
    const asConfigured = await runImage(undefined, input);
    const asNobody = await opened.run([...(config.entrypoint ?? []), ...(config.cmd ?? [])], input, { user: 'nobody' });
    t.is(asNobody.code, 0, asNobody.stderr);
    t.regex(asNobody.stdout, /team: payments\n {2}data:/);
    t.is(asNobody.stdout, asConfigured.stdout);
  });

  test('image: kpt fn eval --image runs it as a container function (inline source, and a mounted file)', async (t) => {
    const env = runtimeEnv();
    const CM = "# the config\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg # the name\ndata:\n  mode: '0644'\n";
    const dir = writeTree(tempDir('kclrun-image-kpt-'), {
      'pkg/cm.yaml': CM,
      'fns/label.k': LABEL,
      'inline.yaml': `apiVersion: krm.kcl.dev/v1alpha1\nkind: KCLRun\nmetadata:\n  name: set-team\nspec:\n  params:\n    team: payments\n  source: |\n    ${LABEL}`,
      'mounted.yaml': 'apiVersion: krm.kcl.dev/v1alpha1\nkind: KCLRun\nmetadata:\n  name: set-team\nspec:\n  params:\n    team: platform\n  source: /fns/label.k\n',
    });
    const kpt = (args: string[]) => image.exec(KPT, ['fn', 'eval', 'pkg', '--image', tag, ...args], { cwd: dir, env });
    const labelled = (team: string) =>
      `# the config\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg # the name\n  labels:\n    team: ${team}\ndata:\n  mode: '0644'\n`;

    const inline = await kpt(['--fn-config', 'inline.yaml']);
    t.is(inline.code, 0, inline.stderr);
    t.is(readFileSync(join(dir, 'pkg/cm.yaml'), 'utf8'), labelled('payments'));

    writeTree(dir, { 'pkg/cm.yaml': CM });
    const mounted = await kpt(['--mount', `type=bind,src=${join(dir, 'fns')},dst=/fns`, '--fn-config', 'mounted.yaml']);
    t.is(mounted.code, 0, mounted.stderr);
    t.is(readFileSync(join(dir, 'pkg/cm.yaml'), 'utf8'), labelled('platform'));
  });

  test('image: a kustomize container function runs it (kustomize build --enable-alpha-plugins)', async (t) => {
    const env = runtimeEnv();
    const dir = writeTree(tempDir('kclrun-image-kustomize-'), {
      'kustomization.yaml': 'resources:\n- cm.yaml\ntransformers:\n- set-team.yaml\n',
      'cm.yaml': "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  mode: '0644'\n",
      'set-team.yaml': `apiVersion: krm.kcl.dev/v1alpha1
kind: KCLRun
metadata:
  name: set-team
  annotations:
    config.kubernetes.io/function: |
      container:
        image: ${tag}
spec:
  params:
    team: payments
  source: |
    ${LABEL}`,
    });
    const r = await image.exec(toolPath('kustomize'), ['build', '--enable-alpha-plugins', '.'], { cwd: dir, env });
    t.is(r.code, 0, r.stderr);
    t.deepEqual(parseAllDocuments(r.stdout).map((d) => d.toJS()), [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', labels: { team: 'payments' } }, data: { mode: '0644' } },
    ]);
  });

  test('image: a failing KCL program exits 1 with an error result and the items unchanged', async (t) => {
    const r = await runImage(undefined, resourceList(DENY));
    t.is(r.code, 1);
    t.regex(r.stdout, /severity: error/);
    t.regex(r.stdout, /no resources allowed here/);
    t.notRegex(r.stdout, /team: payments\n {2}data/);
    t.regex(r.stderr, /no resources allowed here/);
  });

  test('image: a program that crashes the engine exits 1 with the crash as an error result and the items unchanged (the crash guard is in the image)', async (t) => {
    const engineDir = `/opt/kclrun/engine/${pkg.kclEngine.package}-${pkg.kclEngine.version}-${process.arch}`;
    const ls = await opened.run(['node', '-p', `require('node:fs').readdirSync('${engineDir}').sort().join(' ')`]);
    t.is(ls.code, 0, ls.stderr);
    t.regex(ls.stdout, /libkclguard\.so/);
    t.regex(ls.stdout, /kclrun-engine-host/, 'the engine host is in the image: the controller runs native engine workers');
    const r = await runImage(undefined, resourceList(RECURSION));
    t.is(r.code, 1, r.stderr);
    t.regex(r.stdout, /severity: error/);
    t.regex(r.stdout, /KCLRun\/set-team \(spec\.source\): the KCL engine crashed \(SIGSEGV\) while running this program/);
    t.regex(r.stdout, /name: cfg # the config\n {2}data:/);
    t.regex(r.stderr, /the KCL engine crashed \(SIGSEGV\)/);
  });

  test('image: kclrun --version matches package.json and the engine pin', async (t) => {
    const r = await runImage(['--version']);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, new RegExp(`^kclrun ${pkg.version.replace(/\./g, '\\.')}\n`));
    t.regex(r.stdout, new RegExp(`^KCL engine ${pkg.kclEngine.version.replace(/\./g, '\\.')} \\(${pkg.kclEngine.package} ${pkg.kclEngine.version.replace(/\./g, '\\.')}, git [0-9a-f]{12}\\)$`, 'm'));
  });

  test('image: config says a non-root user, the kclrun entrypoint and `fn` by default; it runs as that user', async (t) => {
    const [uid, gid] = (config.user ?? '').split(':');
    t.regex(uid!, /^[1-9][0-9]*$/, 'numeric and not 0, so runAsNonRoot can verify it');
    t.regex(gid!, /^[1-9][0-9]*$/);
    t.deepEqual(config.entrypoint, ['node', '--max-semi-space-size=2', '--no-opt', '--optimize-for-size', '/app/bin/kclrun']);
    t.deepEqual(config.cmd, ['fn']);
    t.true(config.env?.includes('MALLOC_MMAP_THRESHOLD_=131072'), 'the malloc setting of bin/kclrun');
    const ids = await opened.run(['node', '-p', 'process.getuid() + ":" + process.getgid()']);
    t.is(ids.code, 0, ids.stderr);
    t.is(ids.stdout.trim(), `${uid}:${gid}`);
  });

  test('image: no compiler, no npm and no npm cache in the final image', async (t) => {
    const probe = `const fs = require('node:fs');
const dirs = process.env.PATH.split(':');
const tools = ['node', 'cc', 'gcc', 'npm', 'npx', 'nm'].filter((n) => dirs.some((d) => fs.existsSync(d + '/' + n)));
const caches = ['/root/.npm', '/home/nonroot/.npm', '/app/.npm', '/src'].filter((p) => fs.existsSync(p));
console.log(JSON.stringify({ tools, caches }));`;
    const r = await opened.run(['node', '-e', probe]);
    t.is(r.code, 0, r.stderr);
    t.deepEqual(JSON.parse(r.stdout), { tools: ['node'], caches: [] }, 'node is found on PATH, no build tool is');
  });

  test('image: its user cannot modify the app or the engine (a hostile program cannot persist), only /tmp', async (t) => {
    const probe = `const fs = require('node:fs');
const engine = fs.readdirSync('/opt/kclrun/engine').map((d) => '/opt/kclrun/engine/' + d + '/libkcl.so');
const paths = ['/app', '/app/bin/kclrun', '/app/dist/cli/main.js', '/app/dist/bundle/kclrun.cjs', '/app/node_modules/koffi', '/opt/kclrun/engine', ...engine, '/tmp'];
const writable = paths.filter((p) => { try { fs.accessSync(p, fs.constants.W_OK); return true; } catch { return false; } });
console.log(JSON.stringify({ engines: engine.length, writable }));`;
    const r = await opened.run(['node', '-e', probe]);
    t.is(r.code, 0, r.stderr);
    t.deepEqual(JSON.parse(r.stdout), { engines: 1, writable: ['/tmp'] });
  });

  test("image: kclrun install's Deployment runs this image's tag", async (t) => {
    const r = await runImage(['install']);
    t.is(r.code, 0, r.stderr);
    const deploy = parseAllDocuments(r.stdout).map((d) => d.toJS()).find((o) => o.kind === 'Deployment');
    t.is(deploy.spec.template.spec.containers[0].image, tag);
    t.is(deploy.spec.template.spec.containers[0].args[0], 'controller');
  });

  test('image: the controller starts (kclrun controller --help)', async (t) => {
    const r = await runImage(['controller', '--help']);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /^Usage: kclrun controller/m);
  });

  test('image: at most 250 MB uncompressed', (t) => {
    t.truthy(config.size);
    t.true(config.size! <= 250e6, `${(config.size! / 1e6).toFixed(1)} MB`);
    t.log(`${tag}: ${(config.size! / 1e6).toFixed(1)} MB uncompressed (${builder})`);
  });
}
