#!/usr/bin/env bash
# Registry servers for the publish tests (tests/release/test_publish.py), pinned, under
# .toolchains/publish/ (git-ignored). Idempotent: a stamp records the pinned versions.
#   npm:  verdaccio (the last release that runs on Node 20; 6.9+ needs Node 22)
#   PyPI: pypiserver, plus oras-py as an independent OCI client for pulling back
#   OCI:  the registry server of go-containerregistry, built from its Go module
#   Cargo and the Go module proxy are served by the tests themselves (tests/release/).
set -euo pipefail
cd "$(dirname "$0")/../.."

VERDACCIO=6.8.0
PYPISERVER=2.4.2
ORAS=0.2.43
GGCR=v0.22.1

dir=.toolchains/publish
want="verdaccio=$VERDACCIO pypiserver=$PYPISERVER oras=$ORAS go-containerregistry=$GGCR"
if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$want" ] &&
    [ -x "$dir/bin/registry" ] && [ -e "$dir/npm/node_modules/verdaccio/bin/verdaccio" ]; then
    exit 0
fi
mkdir -p "$dir/npm"
echo "installing registry servers for the publish tests into $dir"
python3 -m pip install -q --upgrade --target "$dir/py" "pypiserver==$PYPISERVER" "oras==$ORAS"
(
    cd "$dir/npm"
    [ -f package.json ] || echo '{"private": true}' > package.json
    npm install -E --no-audit --no-fund --silent "verdaccio@$VERDACCIO"
)
GOBIN="$PWD/$dir/bin" GOTOOLCHAIN=local GOFLAGS=-mod=mod \
    go install "github.com/google/go-containerregistry/cmd/registry@$GGCR"
echo "$want" > "$dir/stamp"
