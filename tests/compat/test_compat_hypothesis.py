"""Hypothesis: random worlds, randomly mutated; our guest and host verdicts must agree with
`wasm-tools component semver-check` run both ways on the same pair.

A world is drawn as a small model (an interface of records, variants, enums, flags, aliases,
resources and functions, imported or exported, plus world-level functions), rendered as WIT
twice — OLD as `a:b@1.0.0`, NEW (one or two mutations later) as `a:b@2.0.0` — and checked.
"""

from __future__ import annotations

import copy
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from compat_oracle import (  # noqa: F401 (fixtures)
    NEW_WORLD,
    OLD_WORLD,
    fast_wasm_tools,
    semver_check,
    wasm_tools,
)
from hypothesis import HealthCheck, given, note, reject, settings
from hypothesis import strategies as st

from witgen import compat, frontend
from witgen.diagnostics import WitgenError

PRIMS = ["u8", "u32", "s64", "f32", "bool", "char", "string"]
WORDS = ["alpha", "beta", "gamma", "delta", "omega", "kappa"]


@dataclass
class TypeDef:
    kind: str  # record | variant | enum | flags | alias | resource
    name: str
    members: list[tuple[str, str | None]]  # (name, type) fields/cases; alias: [("", target)]
    docs: str = ""


@dataclass
class Func:
    name: str
    params: list[tuple[str, str]]
    result: str | None
    docs: str = ""
    is_async: bool = False


@dataclass
class Model:
    types: list[TypeDef] = field(default_factory=list)
    funcs: list[Func] = field(default_factory=list)
    methods: dict[str, list[Func]] = field(default_factory=dict)  # resource -> methods
    iface_direction: str = "import"
    # A second interface `u` that `use`s types of `i`: (direction or "" when absent, names).
    user_direction: str = ""
    used: list[str] = field(default_factory=list)
    world_funcs: list[tuple[str, Func]] = field(default_factory=list)  # (import|export, func)
    counter: int = 0

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def type_names(self, *, values_only: bool = False) -> list[str]:
        return [t.name for t in self.types if not (values_only and t.kind == "resource")]

    def referenced(self, name: str) -> bool:
        def mentions(ty: str | None) -> bool:
            return (
                ty is not None
                and name in ty.replace("<", " ").replace(">", " ").replace(",", " ").split()
            )

        for t in self.types:
            if any(mentions(ty) for _, ty in t.members):
                return True
        if name in self.used:
            return True
        funcs = self.funcs + [f for _, f in self.world_funcs]
        funcs += [m for ms in self.methods.values() for m in ms]
        return any(mentions(f.result) or any(mentions(t) for _, t in f.params) for f in funcs)


def render_type(ty: str | None) -> str:
    return "_" if ty is None else ty


def render_func(f: Func, indent: str) -> str:
    params = ", ".join(f"{n}: {t}" for n, t in f.params)
    result = f" -> {f.result}" if f.result else ""
    docs = f"{indent}/// {f.docs}\n" if f.docs else ""
    word = "async func" if f.is_async else "func"
    return f"{docs}{indent}{f.name}: {word}({params}){result};\n"


def render(m: Model, version: str) -> str:
    out = [f"package a:b@{version} {{\n", "  interface i {\n"]
    for t in m.types:
        if t.docs:
            out.append(f"    /// {t.docs}\n")
        if t.kind == "alias":
            out.append(f"    type {t.name} = {t.members[0][1]};\n")
        elif t.kind == "resource":
            body = "".join(render_func(f, "      ") for f in m.methods.get(t.name, []))
            out.append(f"    resource {t.name} {{\n{body}    }}\n")
        elif t.kind in ("enum", "flags"):
            out.append(f"    {t.kind} {t.name} {{ {', '.join(n for n, _ in t.members)} }}\n")
        elif t.kind == "record":
            fields = ", ".join(f"{n}: {ty}" for n, ty in t.members)
            out.append(f"    record {t.name} {{ {fields} }}\n")
        else:
            cases = ", ".join(n if ty is None else f"{n}({ty})" for n, ty in t.members)
            out.append(f"    variant {t.name} {{ {cases} }}\n")
    out += [render_func(f, "    ") for f in m.funcs]
    out.append("  }\n")
    if m.user_direction:
        uses = f"    use i.{{{', '.join(m.used)}}};\n" if m.used else ""
        param = f"x: {m.used[0]}" if m.used else ""
        out.append(f"  interface u {{\n{uses}    h: func({param});\n  }}\n")
    out.append("  world w {\n")
    out.append(f"    {m.iface_direction} i;\n")
    if m.user_direction:
        out.append(f"    {m.user_direction} u;\n")
    for direction, f in m.world_funcs:
        out.append(f"    {direction} {render_func(f, '').strip()}\n")
    out.append("  }\n}\n")
    return "".join(out)


# ---------------------------------------------------------------------------------- drawing


@st.composite
def value_type(draw: st.DrawFn, m: Model, depth: int = 0) -> str:
    names = m.type_names()
    choices = ["prim"] + (["named"] if names else []) + (["compound"] if depth < 1 else [])
    pick = draw(st.sampled_from(choices))
    if pick == "prim":
        return draw(st.sampled_from(PRIMS))
    if pick == "named":
        return draw(st.sampled_from(names))
    inner = draw(value_type(m, depth + 1))
    other = draw(value_type(m, depth + 1))
    return draw(
        st.sampled_from(
            [
                f"list<{inner}>",
                f"option<{inner}>",
                f"result<{inner}, {other}>",
                f"tuple<{inner}, {other}>",
            ]
        )
    )


@st.composite
def param_type(draw: st.DrawFn, m: Model) -> str:
    """A value type, or a borrowed handle (only parameters may borrow)."""
    resources = [t.name for t in m.types if t.kind == "resource"]
    if resources and draw(st.booleans()):
        return f"borrow<{draw(st.sampled_from(resources))}>"
    return str(draw(value_type(m)))


@st.composite
def members(draw: st.DrawFn, m: Model, kind: str) -> list[tuple[str, str | None]]:
    names = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3, unique=True))
    if kind in ("enum", "flags"):
        return [(n, None) for n in names]
    if kind == "record":
        return [(n, draw(value_type(m))) for n in names]
    return [(n, draw(st.one_of(st.none(), value_type(m)))) for n in names]


@st.composite
def func(draw: st.DrawFn, m: Model, name: str) -> Func:
    pnames = draw(st.lists(st.sampled_from(["a", "b", "c"]), max_size=2, unique=True))
    params = [(p, draw(param_type(m))) for p in pnames]
    result = draw(st.one_of(st.none(), value_type(m)))
    return Func(name, params, result)


@st.composite
def models(draw: st.DrawFn) -> Model:
    m = Model()
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["record", "variant", "enum", "flags", "alias", "resource"]))
        name = m.fresh("t")
        if kind == "alias":
            m.types.append(TypeDef(kind, name, [("", draw(value_type(m)))]))
        elif kind == "resource":
            m.types.append(TypeDef(kind, name, []))
            m.methods[name] = [
                Func(f"m{i}", [], draw(st.one_of(st.none(), value_type(m))))
                for i in range(draw(st.integers(0, 2)))
            ]
        else:
            m.types.append(TypeDef(kind, name, draw(members(m, kind))))
    for _ in range(draw(st.integers(1, 3))):
        m.funcs.append(draw(func(m, m.fresh("f"))))
    m.iface_direction = draw(st.sampled_from(["import", "export"]))
    if draw(st.booleans()):
        m.user_direction = draw(st.sampled_from(["import", "export"]))
        names = m.type_names()
        if names:
            m.used = draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
    for _ in range(draw(st.integers(0, 2))):
        m.world_funcs.append(
            (draw(st.sampled_from(["import", "export"])), Func(m.fresh("g"), [], None))
        )
    return m


MUTATIONS = [
    "add-func",
    "remove-func",
    "rename-func",
    "change-result",
    "add-param",
    "remove-param",
    "change-param",
    "rename-param",
    "add-member",
    "remove-member",
    "rename-member",
    "reorder-members",
    "change-member-type",
    "add-type",
    "remove-type",
    "rename-type",
    "add-method",
    "remove-method",
    "flip-interface",
    "add-world-func",
    "remove-world-func",
    "flip-world-func",
    "docs",
    "alias-target",
]


@st.composite
def mutate(draw: st.DrawFn, m: Model) -> tuple[Model, str]:
    m = copy.deepcopy(m)
    what = draw(st.sampled_from(MUTATIONS))
    funcs = m.funcs
    structured = [t for t in m.types if t.kind in ("record", "variant", "enum", "flags")]
    if what == "add-func":
        funcs.append(draw(func(m, m.fresh("f"))))
    elif what == "remove-func" and len(funcs) > 1:
        funcs.pop(draw(st.integers(0, len(funcs) - 1)))
    elif what == "rename-func":
        draw(st.sampled_from(funcs)).name = m.fresh("f")
    elif what == "change-result":
        draw(st.sampled_from(funcs)).result = draw(st.one_of(st.none(), value_type(m)))
    elif what == "add-param":
        f = draw(st.sampled_from(funcs))
        f.params.append((m.fresh("p"), draw(value_type(m))))
    elif what in ("remove-param", "change-param", "rename-param"):
        with_params = [f for f in funcs if f.params]
        if with_params:
            f = draw(st.sampled_from(with_params))
            i = draw(st.integers(0, len(f.params) - 1))
            if what == "remove-param":
                f.params.pop(i)
            elif what == "change-param":
                f.params[i] = (f.params[i][0], draw(param_type(m)))
            else:
                f.params[i] = (m.fresh("p"), f.params[i][1])
    elif (
        what
        in ("add-member", "remove-member", "rename-member", "reorder-members", "change-member-type")
        and structured
    ):
        t = draw(st.sampled_from(structured))
        # Only earlier types may be referenced, to keep the type graph acyclic.
        earlier = Model(types=m.types[: m.types.index(t)])
        if what == "add-member":
            ty = None if t.kind in ("enum", "flags") else draw(value_type(earlier))
            t.members.insert(draw(st.integers(0, len(t.members))), (m.fresh("x"), ty))
        elif what == "remove-member" and len(t.members) > 1:
            t.members.pop(draw(st.integers(0, len(t.members) - 1)))
        elif what == "rename-member":
            i = draw(st.integers(0, len(t.members) - 1))
            t.members[i] = (m.fresh("x"), t.members[i][1])
        elif what == "reorder-members":
            t.members.reverse()
        elif what == "change-member-type" and t.kind in ("record", "variant"):
            i = draw(st.integers(0, len(t.members) - 1))
            t.members[i] = (t.members[i][0], draw(value_type(earlier)))
    elif what == "add-type":
        m.types.append(TypeDef("record", m.fresh("t"), [("v", draw(st.sampled_from(PRIMS)))]))
    elif what in ("remove-type", "rename-type"):
        free = [t for t in m.types if not m.referenced(t.name)]
        if free:
            t = draw(st.sampled_from(free))
            if what == "remove-type":
                m.types.remove(t)
                m.methods.pop(t.name, None)
            else:
                new_name = m.fresh("t")
                m.methods[new_name] = m.methods.pop(t.name, [])
                t.name = new_name
    elif what in ("add-method", "remove-method"):
        resources = [t.name for t in m.types if t.kind == "resource"]
        if resources:
            r = draw(st.sampled_from(resources))
            if what == "add-method":
                m.methods.setdefault(r, []).append(Func(m.fresh("m"), [], None))
            elif m.methods.get(r):
                m.methods[r].pop()
    elif what == "toggle-async":
        f = draw(st.sampled_from(funcs))
        f.is_async = not f.is_async
    elif what == "flip-user" and m.user_direction:
        m.user_direction = "export" if m.user_direction == "import" else "import"
    elif what == "use-more" and m.user_direction:
        unused = [n for n in m.type_names() if n not in m.used]
        if unused:
            m.used.append(draw(st.sampled_from(unused)))
    elif what == "use-less" and m.used:
        m.used.pop()
    elif what == "flip-interface":
        m.iface_direction = "export" if m.iface_direction == "import" else "import"
    elif what == "add-world-func":
        direction = draw(st.sampled_from(["import", "export"]))
        m.world_funcs.append((direction, Func(m.fresh("g"), [], None)))
    elif what == "remove-world-func" and m.world_funcs:
        m.world_funcs.pop()
    elif what == "flip-world-func" and m.world_funcs:
        d, f = m.world_funcs[0]
        m.world_funcs[0] = ("export" if d == "import" else "import", f)
    elif what == "docs":
        target = draw(st.sampled_from(funcs + m.types))
        target.docs = "changed"
    elif what == "alias-target":
        aliases = [t for t in m.types if t.kind == "alias"]
        if aliases:
            t = draw(st.sampled_from(aliases))
            earlier = Model(types=m.types[: m.types.index(t)])
            t.members = [("", draw(value_type(earlier)))]
    return m, what


def _examples() -> int:
    # A quarter of the profile's budget: every example runs wasm-tools twice.
    return max(10, settings().max_examples // 4)


@settings(max_examples=_examples(), suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_worlds_agree_with_semver_check(data, fast_wasm_tools):
    old = data.draw(models(), label="old")
    new, first = data.draw(mutate(old), label="mutation")
    if data.draw(st.booleans(), label="second mutation"):
        new, second = data.draw(mutate(new), label="mutation 2")
    text = "package a:root;\n" + render(old, "1.0.0") + render(new, "2.0.0")
    note(text)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pair.wit"
        path.write_text(text)
        try:
            resolve = frontend.load(path)
        except WitgenError:
            # Some drawn worlds are invalid (e.g. an imported `u` using an exported `i`):
            # wasm-tools must agree, and the example is dropped.
            check = subprocess.run(
                [fast_wasm_tools, "component", "wit", str(path)], capture_output=True
            )
            assert check.returncode != 0
            reject()
        report = compat.check(
            resolve,
            resolve,
            old_world=resolve.find_world(OLD_WORLD),
            new_world=resolve.find_world(NEW_WORLD),
        )
        note("\n".join(f"{f.rule}: {f.message}" for f in report.findings))
        guest_ok = semver_check(fast_wasm_tools, path, OLD_WORLD, NEW_WORLD, False)
        host_ok = semver_check(fast_wasm_tools, path, NEW_WORLD, OLD_WORLD, False)
    assert (not report.breaks(compat.Side.GUESTS), not report.breaks(compat.Side.HOSTS)) == (
        guest_ok,
        host_ok,
    )
