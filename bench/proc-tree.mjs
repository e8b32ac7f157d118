// Resource use of a whole process tree from /proc (a controller plus its children: kclrun's engine workers).
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** pid → [ppid, utime + stime, cutime + cstime] (clock ticks) of every process. */
function processes() {
  const out = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
      out.set(Number(d), [Number(f[1]), Number(f[11]) + Number(f[12]), Number(f[13]) + Number(f[14])]);
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** `root` and its descendants. */
export function treePids(root) {
  const all = processes();
  const pids = [root];
  for (let i = 0; i < pids.length; i++) for (const [pid, [ppid]] of all) if (ppid === pids[i]) pids.push(pid);
  return pids.filter((p) => all.has(p));
}

/** RSS of `root`'s tree in bytes (sum of VmRSS) and the number of processes. */
export function treeRss(root) {
  let kb = 0;
  const pids = treePids(root);
  for (const pid of pids) {
    try {
      kb += Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // ended meanwhile
    }
  }
  return { bytes: kb * 1024, processes: pids.length };
}

/** CPU seconds used so far by `root`'s tree (children that ended and were waited for included). */
export function treeCpuSeconds(root) {
  const all = processes();
  let ticks = all.get(root)?.[2] ?? 0;
  for (const pid of treePids(root)) ticks += all.get(pid)?.[1] ?? 0;
  return ticks / TICKS;
}

/** Samples the peak tree RSS of each root every `ms` until stopped: `{ stop(): Record<name, bytes> }`. */
export function peakRss(roots, ms = 250) {
  const peak = Object.fromEntries(Object.keys(roots).map((k) => [k, 0]));
  const sample = () => {
    for (const [name, pid] of Object.entries(roots)) peak[name] = Math.max(peak[name], treeRss(pid).bytes);
  };
  sample();
  const t = setInterval(sample, ms);
  return {
    peek: () => ({ ...peak }),
    stop: () => {
      clearInterval(t);
      sample();
      return peak;
    },
  };
}
