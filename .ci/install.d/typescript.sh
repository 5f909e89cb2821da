#!/usr/bin/env bash
# Toolchain for TypeScript plugins: tsc, prettier, jco, componentize-js and preview2-shim under
# .toolchains/node/. The recipe and the pinned package list live in witgen itself
# (witgen/toolchains/typescript.py); this is a thin caller. Idempotent (a stamp file records the
# package list).
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -m witgen toolchain install typescript
