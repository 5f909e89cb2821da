"""`witgen compat OLD NEW`: can components built against OLD work with ones built against NEW?

Exit status: 0 compatible or allowed by NEW's version, 1 breaking findings the version does not
allow (or any, with --strict) or a wrong package version, 2 invalid input or usage. See witgen/compat/ for the rules and the compatibility model.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack

from witgen import compat
from witgen.commands.common import parse_features, select_world
from witgen.compat import inputs, output, registry
from witgen.compat.model import Direction
from witgen.diagnostics import Span, UsageError, WitgenError

HELP = "check that a new version of the contract is compatible with an old one"

DESCRIPTION = """\
Compare two versions of a WIT contract. OLD and NEW are .wit files, package directories,
WIT packages encoded as components (.wasm/.wat), or git:REF[:PATH] (read from the repository
without touching the work tree; PATH defaults to the other side's path). Without --world, every
world of the package is compared with its namesake.

Guests are the components built against a world (plugins); hosts run them. --direction guest
(default) checks that guests built against OLD still run on hosts built against NEW: the
promise semver makes, and what `wasm-tools component semver-check` checks. host checks that
hosts built against OLD still run guests built against NEW; both checks both. Findings that
break only the other side are warnings.

Between releases of the same worlds the package version is checked too: breaking existing
guests needs a major release (0.x: a minor one), additions a minor one, docs a patch one.
Breaking changes that NEW's version allows are reported, with the version said to be right,
and pass (exit 0); a version that understates them fails with the minimum version. --strict
fails on any breaking change whatever the version.

Exit status: 0 compatible (or breaking, allowed by the version), 1 breaking findings not
allowed or a wrong version, 2 invalid input or usage.
"""


class _ListRules(argparse.Action):
    """`--list-rules`: print every rule (ID, category, what it means) and exit 0."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="list the rules and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        rules = registry.load_all()
        width = max(len(r) for r in rules)
        lines = [
            f"{rule.id:<{width}}  {rule.category:<9}  {rule.summary}"
            for rule in sorted(rules.values(), key=lambda r: (r.category, r.id))
        ]
        try:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:  # `| head`
            pass
        parser.exit(0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.add_argument("--list-rules", action=_ListRules)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("old", metavar="OLD", help="file, directory or git:REF[:PATH]")
    parser.add_argument("new", metavar="NEW", help="file, directory or git:REF[:PATH]")
    worlds = parser.add_mutually_exclusive_group()
    worlds.add_argument(
        "--world",
        default=None,
        help="compare this world (name, ns:pkg/name[@version]) on both sides",
    )
    worlds.add_argument("--old-world", default=None, help="the world of OLD (with --new-world)")
    parser.add_argument("--new-world", default=None, help="the world of NEW (with --old-world)")
    parser.add_argument("--features", default="", help="comma-separated @unstable features")
    parser.add_argument(
        "--all-features", action="store_true", help="enable every @unstable feature"
    )
    parser.add_argument(
        "--format",
        choices=output.FORMATS,
        default="text",
        help="text (default), json (schema witgen.compat/v1) or github (workflow annotations)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also show notes (docs-only changes...)"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail on any breaking change, even when NEW's version allows it",
    )
    parser.add_argument(
        "--direction",
        choices=[d.value for d in Direction],
        default=Direction.GUEST.value,
        help="whose compatibility decides the exit status (default: guest)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except WitgenError as err:
        # Invalid WIT on either side is invalid input: exit 2, never 1 ("breaking").
        print(err.render(), file=sys.stderr)
        return 2


def _is_release_step(
    old: inputs.Input, old_world: int | None, new: inputs.Input, new_world: int | None
) -> bool:
    """Whether NEW is a later release of OLD, so that its package version must follow the
    changes. Two worlds of one package in one source share one version (nothing to bump), and
    two differently named worlds (`--old-world prev --new-world next`) are not two releases of
    one contract."""
    if old_world is None or new_world is None:
        return old.identity != new.identity
    ow, nw = old.resolve.worlds[old_world], new.resolve.worlds[new_world]
    if ow.name != nw.name:
        return False
    return old.identity != new.identity or ow.package != nw.package


def _run(args: argparse.Namespace) -> int:
    if (args.old_world is None) != (args.new_world is None):
        raise UsageError("--old-world and --new-world go together (or use --world for both)")
    if args.world is not None and args.new_world is not None:
        raise UsageError("--world cannot be combined with --old-world/--new-world")
    features = parse_features(args.features)
    with ExitStack() as stack:
        sides = []
        for spec, other in ((args.old, args.new), (args.new, args.old)):
            default = None if other.startswith(inputs.GIT_PREFIX) else other
            sides.append(
                inputs.load(
                    spec,
                    default_git_path=default,
                    features=features,
                    all_features=args.all_features,
                    stack=stack,
                )
            )
        old, new = sides
        old_spec = args.old_world if args.old_world is not None else args.world
        new_spec = args.new_world if args.new_world is not None else args.world
        old_world = new_world = None
        if old_spec is not None and new_spec is not None:
            old_world = select_world(old.resolve, old_spec)
            new_world = select_world(new.resolve, new_spec)
        report = compat.check(
            old.resolve,
            new.resolve,
            old_world=old_world,
            new_world=new_world,
            direction=Direction(args.direction),
            check_versions=_is_release_step(old, old_world, new, new_world),
            strict=args.strict,
        )

        def show(span: Span | None) -> Span | None:
            return old.show(new.show(span))

        sys.stdout.write(
            output.render(args.format, report, args.old, args.new, show, verbose=args.verbose)
        )
    return 0 if report.compatible else 1
