#!/usr/bin/env bash
# Installs the TypeScript guest toolchain under .toolchains/node/ (git-ignored): tsc, prettier,
# jco and componentize-js, plus preview2-shim pinned at top level (componentize-js imports it
# without declaring it, and newer shims fail with `os error 44`). Idempotent: a stamp file
# records the exact package list, so a second run only compares two strings.
set -euo pipefail
cd "$(dirname "$0")/../.."

dir=.toolchains/node
pkgs=(
    typescript@7.0.2
    prettier@3.10.1
    @bytecodealliance/jco@1.35.0
    @bytecodealliance/componentize-js@0.23.0
    @bytecodealliance/preview2-shim@0.17.5
)
want="${pkgs[*]}"
stamp="$dir/.installed"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$dir/node_modules/.bin/tsc" ]; then
    exit 0
fi
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"name": "witgen-toolchain", "private": true}' > "$dir/package.json"
echo "installing npm packages into $dir: $want"
npm install --prefix "$dir" --save-exact --no-audit --no-fund --loglevel=error "${pkgs[@]}"
echo "$want" > "$stamp"
