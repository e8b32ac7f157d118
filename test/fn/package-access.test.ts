/**
 * A render's package access set by its caller (the controller, per KCLRun): its own package cache, and registry
 * credentials from a Docker config JSON held in memory only — config.json files (kpm's, $DOCKER_CONFIG, ~/.docker)
 * are then never read, so a tenant cannot borrow the controller's. Against a real registry behind htpasswd.
 */
import test from 'ava';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient } from '../../fn/package/oci/client.js';
import { pushPackage } from '../../fn/package/oci/package.js';
import type { RenderOutcome, RenderRequest } from '../../fn/render.js';
import { formatDiagnostic } from '../../fn/engine/diagnostics.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { tempDir, writeTree, renderHere } from '../support/kclrun.js';

const USER = 'kcl';
const PASSWORD = 'access-s3cret';
let locked: Registry;

test.before(async () => {
  locked = await startRegistry({ user: USER, password: PASSWORD });
  const lib = writeTree(tempDir(), { 'kcl.mod': '[package]\nname = "labels"\nversion = "0.1.0"\n', 'main.k': 'team = "platform"\n' });
  await pushPackage(new RegistryClient(locked.host, { credentials: { username: USER, password: PASSWORD } }), 'lib/labels', '0.1.0', lib);
});
test.after.always(async () => {
  await locked?.close();
});

const dockerConfig = () => JSON.stringify({ auths: { [locked.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } });

function request(packages?: RenderRequest['packages']): RenderRequest {
  const pkg = writeTree(tempDir(), {
    'kcl.mod': `[package]\nname = "app"\nversion = "0.0.1"\n\n[dependencies]\nlabels = { oci = "oci://${locked.host}/lib/labels", tag = "0.1.0" }\n`,
    'main.k': 'import labels\nteam = labels.team\n',
  });
  return { source: { kind: 'local', paths: [pkg] }, baseDir: pkg, packages };
}

const shown = (out: RenderOutcome) => (out.ok ? out.yaml.trim() : out.diagnostics.map(formatDiagnostic).join('; '));

test.serial('with package access set, only its in-memory credentials count: $DOCKER_CONFIG is not read', async (t) => {
  const docker = tempDir();
  writeFileSync(join(docker, 'config.json'), dockerConfig());
  const saved = { DOCKER_CONFIG: process.env.DOCKER_CONFIG, KCL_PKG_PATH: process.env.KCL_PKG_PATH };
  process.env.DOCKER_CONFIG = docker;
  process.env.KCL_PKG_PATH = tempDir();
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  });
  // Positive control: without package access, the credentials of $DOCKER_CONFIG are used.
  t.is(shown(await renderHere(request())), 'team: platform');

  const anonymous = tempDir();
  const refused = await renderHere(request({ cache: anonymous }));
  t.regex(shown(refused), /dependency "labels": .*the registry needs credentials \(none configured\): 401 /);
  t.false(existsSync(join(anonymous, 'labels_0.1.0')), 'nothing cached');

  const cache = tempDir();
  t.is(shown(await renderHere(request({ cache, dockerConfig: { text: dockerConfig(), label: "registry Secret 'team/creds'" } }))), 'team: platform');
  t.true(existsSync(join(cache, 'labels_0.1.0', 'kcl.mod')), 'cached in the given cache');
  t.false(existsSync(join(cache, 'kcl.mod.lock')));
});

test.serial('unusable in-memory credentials fail the render naming their label, never their text', async (t) => {
  const out = await renderHere(request({ cache: tempDir(), dockerConfig: { text: `{"auths": ${PASSWORD}`, label: "registry Secret 'team/creds'" } }));
  t.regex(shown(out), /dependency "labels": .*registry Secret 'team\/creds': is not valid JSON/);
  t.false(shown(out).includes(PASSWORD));
});
