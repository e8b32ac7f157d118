// Peak memory of a whole process tree (a CLI and the engine worker it forks, or a single Python process), for the
// benchmarks: /usr/bin/time's %M is the largest single process, not the tree. While the tree runs, /proc is sampled
// every few milliseconds: each process's own peak (VmHWM, the kernel's high-water mark of its RSS) is kept as last
// seen, and the tree's peak is the sum of those peaks. The sum is an upper bound when processes peak at different
// times (never an underestimate, except for growth in the last few milliseconds of a process's life).
import { readdirSync, readFileSync } from 'node:fs';

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
