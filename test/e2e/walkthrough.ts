/**
 * The user's GitOps walk-through, for real and on loopback: a real control plane and source-controller, the
 * flask-demo KCL config repo on a local Git server, the controller installed from `kclrun install` and run as
 * `kclrun controller`, the example's `gitrepository.yaml` and `kclrun.yaml` applied with kubectl — then the CI
 * step (`kclrun set` bumps the image tag, commit, push) and a Service removed from the KCL. Used by the e2e test
 * and by `npm run demo:gitops`; every step reports what it does.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { installFluxSourceCRDs } from '../harness/flux-crds.js';
import { startGitServer, type GitServer } from '../harness/git-server.js';
import { startProcess, waitFor, type GroupProcess } from '../harness/processes.js';
import { startSourceController, type SourceController } from '../harness/source-controller.js';
import { repoRoot } from '../harness/tools.js';

const exec = promisify(execFile);

/** What the walk-through measured. */
export interface WalkthroughResult {
  firstImage: string;
  newImage: string;
  newCommit: string;
  /** Push → source-controller's new artifact (its 10s polling interval dominates). */
  pushToArtifactMs: number;
  /** New artifact → Deployment image changed (this controller). */
  artifactToRolloutMs: number;
  /** Push → Service pruned. */
  pushToPruneMs: number;
  deployments: string;
}

/** Reports one step (the demo prints, the test logs). */
export type Step = (message: string) => void;

const NS = 'default';

/** Runs the whole walk-through; always cleans up. */
export async function runWalkthrough(step: Step): Promise<WalkthroughResult> {
  const root = repoRoot();
  const kclrun = join(root, 'bin', 'kclrun');
  const example = join(root, 'examples', 'flask-demo');
  const work = mkdtempSync(join(tmpdir(), 'kclrun-walkthrough-'));
  let cp: ControlPlane | undefined;
  let sc: SourceController | undefined;
  let git: GitServer | undefined;
  let controller: GroupProcess | undefined;
  try {
    step('1. Start a Kubernetes API server (kube-apiserver + etcd) and Flux source-controller');
    cp = await startControlPlane();
    await installFluxSourceCRDs(cp);
    sc = await startSourceController(cp);
    const kubeconfig = cp.kubeconfigPath;
    const kubectl = async (...args: string[]) => (await exec('kubectl', ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 16 << 20 })).stdout;

    step('2. Push the KCL config repo (examples/flask-demo) to a local Git server');
    git = await startGitServer();
    const first = await git.createRepo('flask-demo', example);
    step(`   ${git.repoUrl('flask-demo')} main@sha1:${first}`);

    step('3. Install the KCLRun controller: kclrun install | kubectl apply --server-side -f -');
    const manifests = (await exec(kclrun, ['install'])).stdout;
    writeFileSync(join(work, 'install.yaml'), manifests);
    await kubectl('apply', '--server-side', '-f', join(work, 'install.yaml'));
    await kubectl('wait', '--for=condition=established', '--timeout=30s', 'crd/kclruns.krm.kcl.dev.fluxcd');
    controller = startProcess(kclrun, ['controller', '--kubeconfig', kubeconfig, '--health-addr', '127.0.0.1:0', '--metrics-addr', '127.0.0.1:0'], join(work, 'controller.log'));
    step(`   kclrun controller running (pid ${controller.pid}, logs ${join(work, 'controller.log')})`);

    step('4. kubectl apply -f gitrepository.yaml -f kclrun.yaml');
    const gitrepo = parse(readFileSync(join(example, 'gitrepository.yaml'), 'utf8'));
    gitrepo.spec.url = git.repoUrl('flask-demo');
    writeFileSync(join(work, 'gitrepository.yaml'), stringify(gitrepo));
    await kubectl('apply', '-f', join(work, 'gitrepository.yaml'), '-f', join(example, 'kclrun.yaml'));

    step('5. Wait until `kubectl get deployments` lists flask-demo');
    await waitFor(async () => /flask-demo/.test(await kubectl('get', 'deployments', '-n', NS)), { timeoutMs: 90_000, what: 'deployment flask-demo', proc: controller });
    const deployments = await kubectl('get', 'deployments', '-n', NS);
    step(deployments.trimEnd().replace(/^/gm, '   '));
    const image = async () => (await kubectl('get', 'deployment', 'flask-demo', '-n', NS, '-o', 'jsonpath={.spec.template.spec.containers[0].image}')).trim();
    const firstImage = await image();

    step('6. CI: a new Flask image is built; kclrun set bumps its tag in main.k, commit, push');
    const checkout = join(work, 'checkout');
    await exec('git', ['clone', '-q', git.repoUrl('flask-demo'), checkout]);
    const gitIn = (...args: string[]) =>
      exec('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@kclrun.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: checkout });
    const tag = randomBytes(20).toString('hex'); // the app repo's commit, as the image tag
    const newImage = `kcllang/flask_demo:${tag}`;
    await exec(kclrun, ['set', 'main.k', `config.containers.flaskdemo.image=${newImage}`], { cwd: checkout });
    await gitIn('commit', '-q', '-am', `Update flask_demo image to ${tag}`);
    await gitIn('push', '-q', 'origin', 'HEAD:main');
    const pushedAt = Date.now();
    const newCommit = (await gitIn('rev-parse', 'HEAD')).stdout.trim();
    step(`   pushed main@sha1:${newCommit}`);
    const revision = async () => (await kubectl('get', 'gitrepository', 'kcl-deployment', '-n', NS, '-o', 'jsonpath={.status.artifact.revision}')).trim();
    await waitFor(async () => (await revision()) === `main@sha1:${newCommit}`, { timeoutMs: 60_000, intervalMs: 50, what: 'new artifact', proc: controller });
    const artifactAt = Date.now();
    await waitFor(async () => (await image()) === newImage, { timeoutMs: 60_000, intervalMs: 50, what: 'new image rolled out', proc: controller });
    const rolledAt = Date.now();
    step(`   source-controller stored the new artifact ${artifactAt - pushedAt} ms after the push`);
    step(`   the Deployment's image changed ${rolledAt - artifactAt} ms after the new artifact: ${newImage}`);

    step('7. Remove the Service from the KCL, commit, push: the controller prunes it');
    const main = readFileSync(join(checkout, 'main.k'), 'utf8');
    const withoutService = main.replace(/\n    service = \{[\s\S]*?\n    \}\n/, '\n');
    if (withoutService === main) throw new Error('walk-through: could not find the service block in main.k');
    writeFileSync(join(checkout, 'main.k'), withoutService);
    await gitIn('commit', '-q', '-am', 'Remove the flask-demo Service');
    await gitIn('push', '-q', 'origin', 'HEAD:main');
    const prunePushedAt = Date.now();
    await waitFor(async () => !/flask-demo/.test(await kubectl('get', 'services', '-n', NS, '-o', 'name')), { timeoutMs: 60_000, intervalMs: 100, what: 'service pruned', proc: controller });
    const pushToPruneMs = Date.now() - prunePushedAt;
    step(`   service/flask-demo pruned ${pushToPruneMs} ms after the push`);
    step(`   ${(await kubectl('get', 'kclrun', 'kcl-deployment', '-n', NS)).trimEnd().replace(/\n/g, '\n   ')}`);
    return { firstImage, newImage, newCommit, pushToArtifactMs: artifactAt - pushedAt, artifactToRolloutMs: rolledAt - artifactAt, pushToPruneMs, deployments };
  } finally {
    step('8. Clean up');
    await controller?.stop();
    await sc?.stop();
    await git?.close();
    await cp?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
