/**
 * The inventory: which objects a KCLRun applied (`status.inventory.entries[{id, v}]`, Flux's format). Pure functions.
 */
import type { InventoryEntry } from '../api/types.js';
import { compareStrings } from '../order.js';

/** Entries in `previous` that are not in `current` (by id): the objects to prune. */
export function staleEntries(previous: readonly InventoryEntry[], current: readonly InventoryEntry[]): InventoryEntry[] {
  const ids = new Set(current.map((e) => e.id));
  return previous.filter((e) => !ids.has(e.id));
}

/** `current` plus the stale entries that could not be deleted (so they are retried, never orphaned). */
export function withSurvivors(current: readonly InventoryEntry[], survivors: readonly InventoryEntry[]): InventoryEntry[] {
  const ids = new Set(current.map((e) => e.id));
  return sortEntries([...current, ...survivors.filter((e) => !ids.has(e.id))]);
}

/** Entries sorted by id, deduplicated (a stable inventory keeps status patches quiet). */
export function sortEntries(entries: readonly InventoryEntry[]): InventoryEntry[] {
  const byId = new Map(entries.map((e) => [e.id, e]));
  return [...byId.values()].sort((a, b) => compareStrings(a.id, b.id));
}
