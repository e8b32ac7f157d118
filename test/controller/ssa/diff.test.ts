/** When the apply may skip its dry-run: a desired value the live object does not hold (pure). */
import test from 'ava';
import { setsOnlyLiveValues } from '../../../controller/ssa/index.js';

const live = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'a', resourceVersion: '7', labels: { app: 'web' } },
  spec: { selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP' }], clusterIP: '10.0.0.1' },
};

test('fields the live object holds with the same values (server-added fields aside): the dry-run decides', (t) => {
  t.true(setsOnlyLiveValues({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'a' }, spec: { selector: { app: 'web' } } }, live));
  t.true(setsOnlyLiveValues({ spec: { ports: [{ port: 80, protocol: 'TCP' }] } }, live));
});

test('a different value, a field the live object lacks, or a list that differs: applied at once', (t) => {
  t.false(setsOnlyLiveValues({ spec: { selector: { app: 'api' } } }, live));
  t.false(setsOnlyLiveValues({ metadata: { annotations: { a: '1' } } }, live));
  t.false(setsOnlyLiveValues({ spec: { ports: [{ port: 80 }] } }, live), 'lists compare whole: the server-added protocol differs');
  t.false(setsOnlyLiveValues({ spec: { selector: 'web' } }, live));
  t.false(setsOnlyLiveValues({ spec: { replicas: 0 } }, { spec: { replicas: null } }));
  t.false(setsOnlyLiveValues({ spec: {} }, undefined), 'no live object');
});
