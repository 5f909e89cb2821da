"""`witgen ir --json [PATH]`: print the resolved IR (the same JSON as wasm-tools prints)."""

from __future__ import annotations

import argparse
import json
import sys

from witgen import ir
from witgen.commands.common import add_input_arguments, load_input

HELP = "print the resolved IR as JSON (identical to `wasm-tools component wit --json`)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")


def run(args: argparse.Namespace) -> int:
    resolve = load_input(args)
    json.dump(ir.to_json(resolve), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
