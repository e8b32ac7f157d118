#!/usr/bin/env bash
# Median wall time of `kclrun fn` on a 5-item and a 1,000-item ResourceList (a set-annotations mutation).
# Uses hyperfine when installed (apt-get install hyperfine), else /usr/bin/time over RUNS runs.
# Usage: bench/fn-bench.sh [RUNS]   (default 15). Needs `npm run setup` first.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-15}
KCLRUN="$PWD/bin/kclrun"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A ResourceList of N Deployments with the set-annotations example as an inline-free local source.
make_list() {
  local n=$1 out=$2
  {
    echo "apiVersion: config.kubernetes.io/v1"
    echo "kind: ResourceList"
    echo "items:"
    for ((i = 0; i < n; i++)); do
      cat <<ITEM
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web-$i # deployment $i
    labels:
      app: web-$i
  spec:
    replicas: 2
    selector:
      matchLabels:
        app: web-$i
    template:
      metadata:
        labels:
          app: web-$i
      spec:
        containers:
        - name: web
          image: nginx:1.27
          ports:
          - containerPort: 80
ITEM
    done
    cat <<CFG
functionConfig:
  apiVersion: krm.kcl.dev/v1alpha1
  kind: KCLRun
  metadata:
    name: set-annotations
  spec:
    source: $PWD/examples/mutation/set-annotations/main.k
    params:
      annotations:
        owner: platform
CFG
  } >"$out"
}

make_list 5 "$work/rl-5.yaml"
make_list 1000 "$work/rl-1000.yaml"

# Sanity: both succeed and annotate every item.
for n in 5 1000; do
  got=$("$KCLRUN" fn <"$work/rl-$n.yaml" | grep -c '^      owner: platform$')
  [[ $got == "$n" ]] || { echo "rl-$n: expected $n annotated items, got $got" >&2; exit 1; }
done

if command -v hyperfine >/dev/null; then
  hyperfine --warmup 2 --runs "$RUNS" --export-json "$work/h.json" \
    -n "kclrun fn (5 items)" "$KCLRUN fn < $work/rl-5.yaml > /dev/null" \
    -n "kclrun fn (1000 items)" "$KCLRUN fn < $work/rl-1000.yaml > /dev/null" >&2
  node -e '
    const r = require(process.argv[1]).results;
    for (const x of r) console.log(`${x.command}: median ${(x.median * 1000).toFixed(0)} ms (mean ${(x.mean * 1000).toFixed(0)} ± ${(x.stddev * 1000).toFixed(0)} ms, ${x.times.length} runs)`);
  ' "$work/h.json"
else
  for n in 5 1000; do
    for ((r = 0; r < RUNS; r++)); do
      /usr/bin/time -f %e -o "$work/t" "$KCLRUN" fn <"$work/rl-$n.yaml" >/dev/null
      cat "$work/t"
    done | sort -n | awk -v n="$n" '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "kclrun fn (%s items): median %.0f ms (%d runs, /usr/bin/time)\n", n, m * 1000, NR}'
  done
fi
