// Peer for `kclrun fn`: the same job (add an annotation to every item) written with the legacy kpt TypeScript SDK
// (`kpt-functions`), reading and writing the same ResourceList. No KCL involved: it measures ResourceList handling.
import { run, addAnnotation } from 'kpt-functions';

async function annotate(configs) {
  for (const o of configs.getAll()) addAnnotation(o, 'owner', 'platform');
}
annotate.usage = 'adds owner=platform to every item';
run(annotate);
