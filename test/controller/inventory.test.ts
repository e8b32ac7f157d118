/**
 * Inventory diff (pure): stale entries are what was applied before and is gone now; survivors (objects that could
 * not be deleted) stay in the inventory so they are retried, never orphaned; entries are sorted and deduplicated.
 */
import test from 'ava';
import type { InventoryEntry } from '../../controller/api/types.js';
import { sortEntries, staleEntries, withSurvivors } from '../../controller/status/inventory.js';

const e = (id: string, v = 'v1'): InventoryEntry => ({ id, v });
const cm = (name: string) => e(`ns_${name}__ConfigMap`);
const dep = (name: string) => e(`ns_${name}_apps_Deployment`, 'apps/v1');

const staleCases: Array<[string, InventoryEntry[], InventoryEntry[], InventoryEntry[]]> = [
  ['nothing before', [], [cm('a')], []],
  ['nothing changed', [cm('a'), dep('b')], [dep('b'), cm('a')], []],
  ['one removed', [cm('a'), cm('b')], [cm('a')], [cm('b')]],
  ['all removed', [cm('a'), dep('b')], [], [cm('a'), dep('b')]],
  ['same name, other kind is a different object', [cm('x')], [dep('x')], [cm('x')]],
  ['version change is not stale', [e('ns_a_apps_Deployment', 'apps/v1beta1')], [dep('a')], []],
];
for (const [what, previous, current, expected] of staleCases) {
  test(`staleEntries: ${what}`, (t) => {
    t.deepEqual(staleEntries(previous, current), expected);
  });
}

const survivorCases: Array<[string, InventoryEntry[], InventoryEntry[], InventoryEntry[]]> = [
  ['no survivors', [cm('b'), cm('a')], [], [cm('a'), cm('b')]],
  ['a survivor is kept', [cm('a')], [cm('z')], [cm('a'), cm('z')]],
  ['a survivor already current is not duplicated', [cm('a')], [cm('a')], [cm('a')]],
  ['current wins over a survivor with the same id', [dep('a')], [e('ns_a_apps_Deployment', 'apps/v1beta1')], [dep('a')]],
];
for (const [what, current, survivors, expected] of survivorCases) {
  test(`withSurvivors: ${what}`, (t) => {
    t.deepEqual(withSurvivors(current, survivors), expected);
  });
}

test('sortEntries sorts by id and keeps the last entry of a duplicate id', (t) => {
  t.deepEqual(sortEntries([cm('c'), cm('a'), e('ns_c__ConfigMap', 'v2')]), [cm('a'), e('ns_c__ConfigMap', 'v2')]);
  t.deepEqual(sortEntries([]), []);
});

test("sortEntries uses Go's byte order, as Flux sorts its inventory (not a locale's collation)", (t) => {
  // '-' (0x2d) < '_' (0x5f) and 'D' < 'a' in bytes; a collation would put `web_` before `web-` and `apps` before `D…`.
  t.deepEqual(
    sortEntries([cm('web'), cm('web-api'), e('ns_x__Deployment'), e('ns_x_apps_Deployment')]).map((x) => x.id),
    ['ns_web-api__ConfigMap', 'ns_web__ConfigMap', 'ns_x__Deployment', 'ns_x_apps_Deployment'],
  );
});

test('prune then survive: a failed delete stays in the next inventory, a successful one leaves it', (t) => {
  const previous = [cm('keep'), cm('gone'), cm('stuck')];
  const current = [cm('keep')];
  const stale = staleEntries(previous, current);
  t.deepEqual(stale, [cm('gone'), cm('stuck')]);
  const failed = stale.filter((s) => s.id.includes('stuck'));
  t.deepEqual(withSurvivors(current, failed).map((x) => x.id), ['ns_keep__ConfigMap', 'ns_stuck__ConfigMap']);
});
