/**
 * V8's optimizing compiler per command. bin/kclrun and the container image start every command with it off
 * (`--no-opt`): a `kclrun fn` or `kclrun render` ends before TurboFan's compile time and memory pay off (a 1,000-item
 * `kclrun fn` takes ~30 % more CPU and ~7 MiB more with it). A controller runs for days and sends a request per
 * object it applies: there TurboFan cuts Node's HTTP client CPU by ~30 %, and the apply of 1,000 objects by ~13 %
 * on a 2-core machine shared with the API server (`npm run bench`, bench/README.md). So the controller turns it back
 * on as it starts, before any of its code is hot. Its memory (~5–9 MiB) is paid back by glibc's fixed mmap threshold
 * that bin/kclrun and the image set (`MALLOC_MMAP_THRESHOLD_`).
 */
import { setFlagsFromString } from 'node:v8';

/** Lets V8 optimize hot functions with TurboFan from now on, whatever the process was started with. */
export function enableOptimizingCompiler(): void {
  setFlagsFromString('--turbofan');
}
