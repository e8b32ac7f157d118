#!/usr/bin/env bash
# Builds the test tools (kube-apiserver, etcd, source-controller, notification-controller, kustomize,
# the OCI registry, oras)
# from the Go tools modules under test/tools/<module>/ into
#   ${KCLRUN_CACHE:-$HOME/.cache/kclrun}/bin/<tool>-<version>
# and refreshes the links in .cluster/bin/.
#
# Versions live in test/tools/versions.json (read by the TS harness too). A binary
# that already exists for the pinned version is never rebuilt, so a warm run takes
# seconds. Builds run one after another (CI machines have 2 cores); the Go module
# and build caches (go env GOMODCACHE / GOCACHE) are kept between runs.
#
# Usage: scripts/build-tools.sh [tool...]   (default: all but kustomize-controller, which only npm run bench builds)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$ROOT/test/tools"
CACHE="${KCLRUN_CACHE:-$HOME/.cache/kclrun}"
BIN="$CACHE/bin"
LINKS="$ROOT/.cluster/bin"
# -mod=readonly: go.mod/go.sum are the pins; a build never rewrites them.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=readonly"

command -v go >/dev/null || { echo "build-tools: 'go' is not on PATH (Go >= 1.26 is needed)" >&2; exit 1; }
mkdir -p "$BIN" "$LINKS"

version_of() { node -e 'process.stdout.write(require(process.argv[1])[process.argv[2]])' "$TOOLS_DIR/versions.json" "$1"; }

# Serialise concurrent invocations (two test workers, cluster:up and CI at once).
exec 9>"$CACHE/build.lock"
if command -v flock >/dev/null; then flock 9; fi

now() { date +%s; }
T0=$(now)

# build_tool <tool> <module dir> <package> [ldflags]
build_tool() {
  local tool=$1 dir=$2 pkg=$3 ldflags=${4:-}
  local version; version=$(version_of "$tool")
  # A tool built from our own main.go (test/tools/<tool>/main.go) is also named by the hash of its main.go, go.mod and
  # go.sum, so editing them rebuilds it (test/harness/tools.ts names it the same way).
  local id=$version
  if [[ -f "$TOOLS_DIR/$tool/main.go" ]]; then
    id+="-$(cd "$TOOLS_DIR/$tool" && cat main.go go.mod go.sum | sha256sum | cut -c1-12)"
  fi
  local out="$BIN/$tool-$id"
  if [[ -x "$out" ]]; then
    echo "build-tools: $tool $id cached ($out)"
  else
    echo "build-tools: building $tool $id from $pkg ..."
    local s; s=$(now)
    (
      cd "$TOOLS_DIR/$dir"
      go mod download
      go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp.$$" "$pkg"
    )
    mv -f "$out.tmp.$$" "$out"
    echo "build-tools: built $tool $id in $(( $(now) - s ))s"
  fi
  ln -sfn "$out" "$LINKS/$tool"
}

kube_ldflags() {
  local v; v=$(version_of kube-apiserver)
  local minor; minor=$(echo "$v" | cut -d. -f2)
  local major; major=$(echo "${v#v}" | cut -d. -f1)
  local date; date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local f=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f+=" -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    f+=" -X $p.gitTreeState=clean -X $p.buildDate=$date"
  done
  echo "$f"
}

want=("$@")
[[ ${#want[@]} -gt 0 ]] || want=(kube-apiserver etcd source-controller notification-controller kustomize registry oras)
for t in "${want[@]}"; do
  case "$t" in
    kube-apiserver) build_tool kube-apiserver kube k8s.io/kubernetes/cmd/kube-apiserver "$(kube_ldflags)" ;;
    etcd) build_tool etcd etcd go.etcd.io/etcd/server/v3 ;;
    source-controller) build_tool source-controller flux github.com/fluxcd/source-controller ;;
    # Bench only (npm run bench's controller peer); not in the default list, so npm test never builds it.
    kustomize-controller) build_tool kustomize-controller flux-kustomize github.com/fluxcd/kustomize-controller ;;
    notification-controller) build_tool notification-controller notification github.com/fluxcd/notification-controller ;;
    kustomize) build_tool kustomize kustomize sigs.k8s.io/kustomize/kustomize/v5 ;;
    registry) build_tool registry registry . ;;
    oras) build_tool oras oras oras.land/oras/cmd/oras ;;
    *) echo "build-tools: unknown tool '$t'" >&2; exit 2 ;;
  esac
done

# The Flux source and notification CRDs come from the pinned modules; make sure they are downloaded.
(cd "$TOOLS_DIR/flux" && go mod download github.com/fluxcd/source-controller)
(cd "$TOOLS_DIR/notification" && go mod download github.com/fluxcd/notification-controller)
# The Kustomization CRD comes from the pinned kustomize-controller module (bench only).
for t in "${want[@]}"; do
  if [[ "$t" == kustomize-controller ]]; then (cd "$TOOLS_DIR/flux-kustomize" && go mod download github.com/fluxcd/kustomize-controller); fi
done

echo "build-tools: done in $(( $(now) - T0 ))s; links in ${LINKS#$ROOT/}/"
