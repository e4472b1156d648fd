#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go modules beside this script and caches the binaries
# outside the repository, keyed by version, so that another clone on the same machine reuses them.
#
#   bash test/control-plane/build.sh          # build what is missing, print the binary directory last
#   FORCE=1 bash test/control-plane/build.sh  # rebuild even when cached
#
# Environment:
#   NKL_CONTROL_PLANE_CACHE  cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/nestjs-kube-leader/control-plane)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$HERE/versions.env"

CACHE_ROOT="${NKL_CONTROL_PLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nestjs-kube-leader/control-plane}"
BIN_DIR="$CACHE_ROOT/kubernetes-$KUBERNETES_VERSION-etcd-$ETCD_VERSION"
export CGO_ENABLED=0

step() { printf '[control-plane] %s\n' "$*" >&2; }
fail() {
  step "FAILED at step: $1"
  step "retry with: bash test/control-plane/build.sh   (logs above)"
  exit 1
}

mkdir -p "$BIN_DIR"

build_one() {
  local name="$1" module_dir="$2" package="$3" ldflags="$4"
  local target="$BIN_DIR/$name"
  if [[ -x "$target" && -z "${FORCE:-}" ]]; then
    step "$name: cached at $target"
    return
  fi
  command -v go >/dev/null 2>&1 || fail "find the Go toolchain to build $name (install Go >= 1.26 and put 'go' on PATH)"
  step "$name: downloading Go modules (go mod download) ..."
  (cd "$HERE/$module_dir" && go mod download) || fail "$name: go mod download"
  step "$name: compiling $package (several minutes on 2 cores) ..."
  local started=$SECONDS
  # Build into a temporary name first so an interrupted build never leaves a broken cached binary.
  (cd "$HERE/$module_dir" && go build -trimpath -ldflags "$ldflags" -o "$target.partial" "$package") \
    || fail "$name: go build $package"
  mv "$target.partial" "$target"
  step "$name: built in $((SECONDS - started)) s, $(du -h "$target" | cut -f1) at $target"
}

minor="$(echo "$KUBERNETES_VERSION" | cut -d. -f2)"
build_one kube-apiserver kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver \
  "-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
build_one etcd etcd go.etcd.io/etcd/server/v3 "-s -w"
# The client-go reference candidate (our own small program): keyed by the hash of its sources.
candidate_hash="$(cat "$HERE/../interop/client-go-candidate/"{main.go,go.mod,go.sum} | sha256sum | cut -c1-12)"
build_one "client-go-candidate-$candidate_hash" ../interop/client-go-candidate . "-s -w"
ln -sf "client-go-candidate-$candidate_hash" "$BIN_DIR/client-go-candidate.tmp" && mv -fT "$BIN_DIR/client-go-candidate.tmp" "$BIN_DIR/client-go-candidate"

echo "$BIN_DIR"
