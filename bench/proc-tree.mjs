// Resource use of a whole process tree from /proc, for the benchmarks: a controller plus its engine workers, or a
// CLI and whatever it forks (/usr/bin/time's %M is the largest single process, not the tree).
//   - treeRss / treeCpuSeconds / peakRss: the tree now (VmRSS summed), its CPU so far, its peak sampled every `ms`;
//   - watchTree: a short-lived tree's peak, sampled every few ms: each process's own peak (VmHWM, the kernel's
//     high-water mark of its RSS) kept as last seen, the tree's peak being the sum of those (an upper bound when
//     processes peak at different times; never an underestimate, except for growth in a process's last few ms).
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** [utime + stime, cutime + cstime] (clock ticks) of `pid`, or undefined when it is gone. */
function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    return [Number(f[11]) + Number(f[12]), Number(f[13]) + Number(f[14])];
  } catch {
    return undefined;
  }
}

/** `root` and its descendants (those still running). */
export function treePids(root) {
  const pids = [root];
  for (let i = 0; i < pids.length; i++) pids.push(...childrenOf(pids[i]));
  return pids.filter((p) => existsSync(`/proc/${p}`));
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
  let ticks = cpuTicks(root)?.[1] ?? 0;
  for (const pid of treePids(root)) ticks += cpuTicks(pid)?.[0] ?? 0;
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

/** Pids of `pid`'s children (over all its threads). */
function childrenOf(pid) {
  const out = [];
  let tasks;
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // already gone
  }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ')) if (c) out.push(Number(c));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** VmHWM of `pid` in KiB, and its start time (pids are reused), or undefined when it is gone. */
function peakOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(status);
    const start = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.split(' ')[19];
    return hwm ? { kb: Number(hwm[1]), key: `${pid}:${start}` } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts watching the descendants of `rootPid` (not `rootPid` itself: the bench runs commands under /usr/bin/time);
 * `stop()` returns the tree's peak in MiB, how many processes were seen and each one's peak (MiB, in order seen).
 */
export function watchTree(rootPid, intervalMs = 5) {
  const peaks = new Map();
  const sample = () => {
    const todo = childrenOf(rootPid);
    while (todo.length > 0) {
      const pid = todo.pop();
      const p = peakOf(pid);
      if (p) peaks.set(p.key, Math.max(peaks.get(p.key) ?? 0, p.kb));
      todo.push(...childrenOf(pid));
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    /** Takes a last sample (call it before reaping the root) and stops. */
    stop() {
      sample();
      clearInterval(timer);
      let kb = 0;
      for (const v of peaks.values()) kb += v;
      return { mib: kb / 1024, processes: peaks.size, each: [...peaks.values()].map((v) => Math.round(v / 1024)) };
    },
  };
}
