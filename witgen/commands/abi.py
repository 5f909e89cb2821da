"""`witgen abi [PATH] [--world W] [--json]`: canonical-ABI facts of a world.

For every named type of the world (resources aside): size, alignment and flat core types; for
every function the world imports or exports: its core signature in that direction. The JSON
form is a documented contract:

    {"world": "source-plugin", "types": [{"interface": "ns:pkg/iface@1.0.0" | null,
      "name": "data-record", "size": 32, "align": 8, "flat": ["i32", ...]}, ...],
     "functions": [{"interface": ... | null, "name": "[method]cursor.next",
      "direction": "import" | "export", "async": false, "params": ["i32", ...],
      "results": ["i32"]}, ...]}

"async" is true for an `async func`: its core function is then lifted or lowered with the async
ABI (`[async-lift]` / `[async-lower]` in the core names; params/results are that signature).
A function's "interface" is the name of the instance it lives in, as the component names it:
the interface's id (`ns:pkg/iface@1.0.0`), or the plain name of `import name: interface {...}`
or `import name: ns:pkg/iface`; null for a world-level function.

Types are listed per interface in the world's import-then-export order, in declaration order
(types brought in with `use` are listed under the interface that uses them too); world-level
types have `"interface": null`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from witgen import ir
from witgen.abi.layout import Layouts
from witgen.abi.analysis import exported_resources, world_functions
from witgen.abi.plan import FunctionPlan, world_plans
from witgen.abi.stream import ROLE_SIDES, ROLES, function_stream, post_return_stream, render
from witgen.commands.common import add_input_arguments, load_input, select_world

HELP = "show sizes, alignments, flat types and core signatures of a world (canonical ABI)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser, world=True)
    parser.add_argument("--json", action="store_true", help="print the JSON contract")
    parser.add_argument(
        "--stream",
        action="store_true",
        help="print each function's instruction stream (witgen.abi.stream), per role",
    )
    parser.add_argument(
        "--role",
        choices=ROLES,
        action="append",
        help="with --stream: only these roles (default: the host's and the guest's of each)",
    )


def _named_types(resolve: ir.Resolve, world: int) -> list[tuple[str | None, str, int]]:
    """(interface id or None, name, type id) of every named non-resource type of the world."""
    out: list[tuple[str | None, str, int]] = []
    seen_ifaces: set[int] = set()
    for _direction, entry, _name in resolve.world_interfaces(world):
        item = entry.item
        if isinstance(item, ir.WorldInterface):
            if item.id in seen_ifaces:
                continue
            seen_ifaces.add(item.id)
            iface_id = resolve.interface_id(item.id)
            for name, tid in resolve.interfaces[item.id].types.items():
                out.append((iface_id, name, tid))
        elif isinstance(item, ir.WorldType):
            type_name = resolve.types[item.id].name
            if type_name is not None:
                out.append((None, type_name, item.id))
    return [t for t in out if not _is_resource(resolve, t[2])]


def _is_resource(resolve: ir.Resolve, tid: int) -> bool:
    target = resolve.dealias(tid)
    return isinstance(target, int) and isinstance(resolve.types[target].kind, ir.Resource)


def abi_document(resolve: ir.Resolve, world: int) -> dict[str, Any]:
    """The JSON contract of `witgen abi --json` for one world."""
    layouts = Layouts(resolve)
    types = [
        {
            "interface": iface,
            "name": name,
            "size": layouts.size(tid),
            "align": layouts.align(tid),
            "flat": list(layouts.flat(tid)),
        }
        for iface, name, tid in _named_types(resolve, world)
    ]
    functions = [
        {
            # the instance's name in the component: the interface's id, or the plain name of
            # `import name: interface { ... }` / `import name: ns:pkg/iface` (an inline
            # interface has no id, and one interface may be imported under several names)
            "interface": item.interface_key,
            "name": plan.function,
            "direction": plan.direction,
            "async": plan.signature.is_async,
            "params": list(plan.signature.params),
            "results": list(plan.signature.results),
        }
        for plan, item in zip(world_plans(layouts, world), world_functions(resolve, world))
    ]
    return {"world": resolve.worlds[world].name, "types": types, "functions": functions}


def _notes(plan: FunctionPlan) -> str:
    sig = plan.signature
    notes = []
    if sig.is_async:
        notes.append("async")
    if sig.params_indirect and sig.param_area is not None:
        notes.append(f"params in memory ({sig.param_area.size} bytes)")
    if plan.result.via == "returned-pointer" and plan.result.area is not None:
        notes.append(f"result via returned pointer ({plan.result.area.size} bytes)")
    elif plan.result.via == "retptr" and plan.result.area is not None:
        notes.append(f"result via retptr ({plan.result.area.size} bytes)")
    elif plan.result.via == "task-return":
        notes.append("result via task.return")
    if plan.post_return:
        notes.append("post-return")
    if plan.allocations:
        notes.append(f"{len(plan.allocations)} cabi_realloc site(s)")
    return "  ; " + ", ".join(notes) if notes else ""


def render_text(resolve: ir.Resolve, world: int, doc: dict[str, Any]) -> str:
    layouts = Layouts(resolve)
    w = resolve.worlds[world]
    pkg = resolve.packages[w.package].name if w.package is not None else None
    lines = [f"world {w.name}" + (f" (package {pkg})" if pkg else ""), "", "types:"]
    current: object = object()
    width = max([len(t["name"]) for t in doc["types"]] + [4])
    for t in doc["types"]:
        if t["interface"] != current:
            current = t["interface"]
            lines.append(f"  {current or '(world)'}")
        flat = ", ".join(t["flat"])
        lines.append(
            f"    {t['name']:<{width}}  size {t['size']:>3}  align {t['align']}  flat [{flat}]"
        )
    lines += ["", "functions (core signatures as the guest sees them):"]
    current = object()
    plans = world_plans(layouts, world)
    fwidth = max([len(p.function) for p in plans] + [4])
    for plan, f in zip(plans, doc["functions"]):
        key = (f["direction"], f["interface"])
        if key != current:
            current = key
            lines.append(f"  {f['direction']} {f['interface'] or '(world)'}")
        params = ", ".join(f["params"])
        results = ", ".join(f["results"])
        lines.append(f"    {f['name']:<{fwidth}}  ({params}) -> ({results}){_notes(plan)}")
    return "\n".join(lines)


def render_streams(resolve: ir.Resolve, world: int, roles: list[str] | None = None) -> str:
    """Every synchronous function's instruction streams: for an export the host's call and the
    guest's implementation (and its post-return), for an import the guest's call and the
    host's implementation, or only `roles`."""
    layouts = Layouts(resolve)
    guest_resources = exported_resources(resolve, world)
    out = []
    for item in world_functions(resolve, world):
        func = item.function
        iface = None if item.interface is None else resolve.interface_id(item.interface)
        if func.is_async:
            out.append(f"{item.direction} {iface or '(world)'} {func.name}: async (not streamed)")
            continue
        for role in roles or ROLES:
            if ROLE_SIDES[role][0] != item.direction:
                continue
            local = guest_resources if role.startswith("guest") else frozenset()
            program = function_stream(layouts, func, role, interface=iface, local_resources=local)
            out.append(render(program, resolve))
            if role == "guest-export":
                post = post_return_stream(layouts, func, interface=iface)
                if post is not None:
                    out.append(render(post, resolve))
    return "\n\n".join(out)


def run(args: argparse.Namespace) -> int:
    resolve = load_input(args)
    world = select_world(resolve, args.world)
    if args.stream:
        print(render_streams(resolve, world, args.role))
        return 0
    doc = abi_document(resolve, world)
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(render_text(resolve, world, doc))
    return 0
