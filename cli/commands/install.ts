/** `kclrun install`: prints the controller's install manifests (`kclrun install | kubectl apply -f -`). */
import { parseArgs } from 'node:util';
import { formatStream, Item, type JsonObject } from '../../krm/index.js';
import { installManifests, SHARD_NAME } from '../../controller/install.js';
import { UsageError, write } from '../io.js';

/** Help text for `kclrun install`. */
export const INSTALL_HELP = `Usage: kclrun install [--namespace NS] [--image REPO] [--shard NAME]... [--crds-only]

Prints the manifests that install the KCLRun controller: the KCLRun CRD
(krm.kcl.dev.fluxcd/v1alpha1), a namespace (default kclrun-system), a ServiceAccount with
RBAC limited to what the controller does, and a non-root, read-only Deployment.
  kclrun install | kubectl apply -f -

With --shard NAME (repeatable), as Flux shards: one more Deployment kclrun-controller-NAME per
shard reconciles the KCLRuns labelled sharding.fluxcd.io/key=NAME, and the main Deployment only
those without that label.
`;

/** Runs `kclrun install`; returns the exit code. */
export async function installCommand(argv: string[], version: string): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      namespace: { type: 'string', short: 'n' },
      image: { type: 'string' },
      'crds-only': { type: 'boolean' },
      shard: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    await write(process.stdout, INSTALL_HELP);
    return 0;
  }
  const shards = values.shard ?? [];
  const bad = shards.find((s) => !SHARD_NAME.test(s));
  if (bad !== undefined) throw new UsageError(`--shard: invalid name "${bad}" (lowercase letters, digits and -, at most 40)`);
  if (new Set(shards).size !== shards.length) throw new UsageError('--shard: each shard name may be given once');
  let objects = installManifests({ version, namespace: values.namespace, image: values.image, shards });
  if (values['crds-only']) objects = objects.filter((o) => o.kind === 'CustomResourceDefinition');
  await write(process.stdout, formatStream(objects.map((o) => Item.fromObject(o as JsonObject))));
  return 0;
}
