"""The `witgen` command line: parses arguments and dispatches to one module per subcommand.

Each subcommand lives in `witgen/commands/<name>.py` and defines `HELP`, `add_arguments(parser)`
and `run(args) -> int`. Errors meant for users (`WitgenError`) are printed here, once, and
turned into the exit status; nothing user-caused ends in a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from types import ModuleType

from witgen import __version__
from witgen.deepstack import call_with_deep_stack
from witgen.diagnostics import WitgenError

# Subcommand name -> module under witgen.commands. Imported lazily so that `witgen check`
# does not pay for loading the code generators.
COMMANDS = {
    "check": "check",
    "ir": "ir",
    "fmt": "fmt",
    "abi": "abi",
    "generate": "generate",
    "compat": "compat",
    "release": "release",
    "publish": "publish",
    "toolchain": "toolchain",
    "new": "new",
    "build": "build",
    "test": "test",
    "run": "run",
    "sign": "sign",
}

# Commands run on a thread with a large stack (`witgen.deepstack`); the others (which may
# install signal handlers) stay on the main thread.
DEEP_COMMANDS = frozenset({"check", "ir", "fmt", "abi", "generate", "compat", "release"})


def _available_commands(only: str | None = None) -> dict[str, ModuleType]:
    loaded: dict[str, ModuleType] = {}
    for name, module in COMMANDS.items():
        if only is not None and name != only:
            continue
        try:
            loaded[name] = importlib.import_module(f"witgen.commands.{module}")
        except ModuleNotFoundError as exc:
            # A subcommand whose module has not been written yet is simply not offered.
            if exc.name != f"witgen.commands.{module}":
                raise
    return loaded


def _command_in(argv: list[str]) -> str | None:
    """The subcommand `argv` names, when it is a known one (its first word that is not an
    option); then only that command's module is imported (`witgen check` does not load the
    code generators). Help and mistakes get the parser with every command."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
        if word in ("-h", "--help", "--version"):
            return None
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="witgen",
        description="WIT-driven code generator and SDK factory for DataFlare plugins.",
    )
    parser.add_argument("--version", action="version", version=f"witgen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    only = _command_in(argv) if argv is not None else None
    for name, module in _available_commands(only).items():
        p = sub.add_parser(name, help=getattr(module, "HELP", None))
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        if args.command in DEEP_COMMANDS:  # they walk WIT types recursively
            return int(call_with_deep_stack(lambda: args._run(args)))
        return int(args._run(args))
    except WitgenError as err:
        print(err.render(), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as err:  # a filesystem error no command anticipated: one line, exit 2
        where = f"{err.filename}: " if err.filename else ""
        print(f"error: {where}{err.strerror or err}", file=sys.stderr)
        return 2


# Objects a command leaves for the process to drop at exit. `check` puts its resolved IR here:
# freeing a large IR object by object takes about a twentieth of `check`'s time, and the
# operating system reclaims it at once when the process ends.
LEFT_FOR_EXIT: list[object] = []
# True when this process is the `witgen` command (set by `console_main`), so that commands run
# in-process by other code never keep objects until exit.
PROCESS_ENTRY = False


def console_main() -> None:
    """The `witgen` command and `python -m witgen`: `main`, then the process exit.

    When a command left objects for the exit, the process ends with `os._exit` after flushing
    the standard streams, so the interpreter does not tear them down one by one. Only the
    process entry does this; `main` itself returns normally for callers that run it in-process.
    """
    global PROCESS_ENTRY
    PROCESS_ENTRY = True
    code = main()
    if LEFT_FOR_EXIT:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:
            pass
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    console_main()
