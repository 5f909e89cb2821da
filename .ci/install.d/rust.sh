#!/usr/bin/env bash
# Toolchain for the Rust guest SDK tests. `.ci/install` already installs Debian's rustc-web,
# cargo-web, rust-web-src (vendored std sources for -Zbuild-std), rust-web-llvm and lld-22;
# this adds rustfmt and clippy (Debian's, when rustup's are not on PATH) and checks the pieces
# witgen.toolchains.rust needs. Idempotent and quick when everything is there. Build caches
# live in target/rust-guests/ (git-ignored), filled by the first test run (~60 s cold).
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v rustfmt >/dev/null 2>&1 || need+=(rustfmt-web)
command -v cargo-clippy >/dev/null 2>&1 || need+=(rust-web-clippy)
if [ "${#need[@]}" -gt 0 ]; then
    echo "installing Debian packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

python3 -m witgen toolchain install rust
# The crates of the wit-bindgen guests of tests/foreign/ (wit-bindgen from the crate registry,
# and build-std's dependencies for them) into cargo's download cache: the tests build --offline
# (without this they fetch on their first build; under CI they fail if the registry is unreachable).
python3 tests/foreign/guests.py prefetch ||
    echo "warning: could not fetch the crates of tests/foreign's wit-bindgen guests" >&2
