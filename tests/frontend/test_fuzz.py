"""Property tests for the front end, with wasm-tools as the oracle.

`wit_packages()` generates VALID WIT packages: interfaces whose types only refer to types
defined before them (so no cycles), `use` of earlier interfaces, resources with constructors,
methods and statics, functions, worlds importing/exporting interfaces and functions, inline
interfaces, `include` of earlier worlds, docs and stability attributes. `wit_package_sets()`
adds a second package the first one uses, nested in the same file or under `deps/` (as a file
or a directory). `mutants()` damages such text a little (deletes, duplicates or swaps tokens,
inserts junk).

Properties: `frontend.load` either returns an IR whose JSON equals wasm-tools' or raises a
`WitError` with a span; it never raises anything else, and it accepts exactly what wasm-tools
accepts. The "ci" Hypothesis profile runs a modest number of examples; "thorough" runs more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st
from wit_oracle import (
    DEFAULT,
    ALL_FEATURES,
    Mode,
    first_difference,
    load_with_witgen,
    span_location,
    wasm_tools,
    write_scratch,
    write_scratch_tree,
)

from conftest import require_tool
from witgen.diagnostics import WitError, WitErrors
from witgen.wit_printer import KEYWORDS

# A tenth of the profile's budget: ci (200) -> 20 per property, thorough (5000) -> 500.
EXAMPLES = max(20, settings().max_examples // 10)
# Every example runs wasm-tools in a subprocess, and shrinking a failure can take thousands
# of them: the quick profile reports the failing example unshrunk; "thorough" shrinks it.
THOROUGH = settings().max_examples >= 1000
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=list(Phase) if THOROUGH else [Phase.explicit, Phase.reuse, Phase.generate],
)

PRIMITIVES = ["bool", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64"]
PRIMITIVES += ["f32", "f64", "char", "string", "error-context"]


# ---------------------------------------------------------------------------- names


@st.composite
def identifiers(draw: st.DrawFn) -> str:
    """A kebab-case WIT identifier, `%`-escaped when it spells a keyword."""
    word = st.one_of(
        st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True),
        st.from_regex(r"[A-Z][A-Z0-9]{0,4}", fullmatch=True),
        st.sampled_from(sorted(KEYWORDS)),
    )
    parts = draw(st.lists(word, min_size=1, max_size=3))
    text = "-".join(parts)
    # every part must start with a letter: a keyword like `u8` keeps that true
    return f"%{text}" if text in KEYWORDS else text


class Names:
    """Hands out identifiers that are unique within one scope."""

    def __init__(self, draw: st.DrawFn, taken: set[str] | None = None) -> None:
        self.draw = draw
        self.taken = taken if taken is not None else set()

    @staticmethod
    def plain(name: str) -> str:
        """Names must be strongly unique: case and hyphens do not tell them apart."""
        return name.lstrip("%").lower().replace("-", "")

    def claim(self, name: str) -> bool:
        """Take `name` if no name of the scope is the same; say whether it was free."""
        plain = self.plain(name)
        if plain in self.taken:
            return False
        self.taken.add(plain)
        return True

    def fresh(self) -> str:
        while True:
            name = self.draw(identifiers())
            if self.claim(name):
                return name


@st.composite
def versions(draw: st.DrawFn) -> str:
    core = ".".join(str(draw(st.integers(0, 12))) for _ in range(3))
    pre = draw(st.sampled_from(["", "-alpha", "-rc.1", "-0.3.7", "-x-y.z"]))
    build = draw(st.sampled_from(["", "+build.5", "+sha.abc123"]))
    return core + pre + build


@st.composite
def docs(draw: st.DrawFn, indent: str) -> str:
    lines = draw(st.lists(st.from_regex(r"[A-Za-z0-9 ,.`()é-]{0,30}", fullmatch=True), max_size=3))
    style = draw(st.sampled_from(["///", "/**"]))
    if not lines:
        return ""
    if style == "/**":
        return f"{indent}/** {' '.join(l.strip() for l in lines)} */\n"
    return "".join(f"{indent}/// {l.strip()}\n".replace("/// \n", "///\n") for l in lines)


# ---------------------------------------------------------------------------- packages


@dataclass
class Scope:
    """Types visible in an interface or world, split by what they may be used for."""

    values: list[str] = field(default_factory=list)  # usable anywhere
    resources: list[str] = field(default_factory=list)


@st.composite
def type_expressions(draw: st.DrawFn, scope: Scope, depth: int = 0) -> str:
    leaves = PRIMITIVES + scope.values + scope.resources
    if depth >= 2 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(leaves))
    inner = type_expressions(scope, depth + 1)
    form = draw(st.integers(0, 10))
    if form == 0:
        return f"list<{draw(inner)}>"
    if form == 1:
        return f"option<{draw(inner)}>"
    if form == 2:
        return f"tuple<{', '.join(draw(st.lists(inner, min_size=1, max_size=3)))}>"
    if form == 3:
        ok = draw(st.one_of(st.none(), inner))
        err = draw(st.one_of(st.none(), inner))
        if ok is None and err is None:
            return "result"
        if err is None:
            return f"result<{ok}>"
        return f"result<{'_' if ok is None else ok}, {err}>"
    if form == 4:
        return f"list<{draw(inner)}, {draw(st.integers(1, 8))}>"
    if form == 5:
        return f"map<{draw(st.sampled_from(['string', 'u32', 'char']))}, {draw(inner)}>"
    if form == 6:
        return draw(st.sampled_from(["future", "stream"])) + f"<{draw(inner)}>"
    if form == 7:
        return draw(st.sampled_from(["future", "stream"]))
    return draw(st.sampled_from(leaves))


def attribute(draw: st.DrawFn, version: str | None, indent: str, unstable: bool = True) -> str:
    """Maybe `@since`/`@deprecated` or `@unstable`. Items that others may refer to never get
    `@unstable`: a reference to a feature-gated item is an error when the feature is off."""
    choice = draw(st.integers(0, 5))
    if choice == 1 and not unstable:
        choice = 0
    if choice == 0 and version is not None:
        base = version.split("+", 1)[0]
        extra = ""
        if draw(st.booleans()):
            extra = f"{indent}@deprecated(version = {base})\n"
        return f"{indent}@since(version = {base})\n{extra}"
    if choice == 1:
        return f"{indent}@unstable(feature = {draw(st.sampled_from(['fa', 'fb', 'fc']))})\n"
    return ""


@st.composite
def functions(draw: st.DrawFn, scope: Scope, names: Names, indent: str, version: str | None) -> str:
    name = names.fresh()
    if draw(st.integers(0, 7)) == 0:  # an accessor pair (`get`, maybe `set`)
        ty = draw(type_expressions(scope))
        text = draw(docs(indent)) + f"{indent}{name}: get() -> {ty};\n"
        if draw(st.booleans()):
            text += f"{indent}{name}: set(value: {ty});\n"
        return text
    return (
        draw(docs(indent))
        + attribute(draw, version, indent)
        + (f"{indent}{name}: {draw(signatures(scope))};\n")
    )


@st.composite
def parameters(draw: st.DrawFn, scope: Scope) -> str:
    """`name: type, ...`; only parameters may borrow a resource."""
    params = []
    pnames = Names(draw)
    for _ in range(draw(st.integers(0, 3))):
        ty = draw(type_expressions(scope))
        if scope.resources and draw(st.integers(0, 4)) == 0:
            ty = f"borrow<{draw(st.sampled_from(scope.resources))}>"
        params.append(f"{pnames.fresh()}: {ty}")
    return ", ".join(params)


@st.composite
def signatures(draw: st.DrawFn, scope: Scope) -> str:
    params = draw(parameters(scope))
    result = ""
    if draw(st.booleans()):
        result = f" -> {draw(type_expressions(scope))}"
    prefix = "async " if draw(st.integers(0, 5)) == 0 else ""
    return f"{prefix}func({params}){result}"


@st.composite
def type_definitions(
    draw: st.DrawFn, scope: Scope, names: Names, indent: str, version: str | None
) -> str:
    name = names.fresh()
    head = draw(docs(indent)) + attribute(draw, version, indent, unstable=False)
    kind = draw(st.integers(0, 6))
    inner = indent + "  "
    if kind == 0:
        fields = Names(draw)
        body = "".join(
            f"{inner}{fields.fresh()}: {draw(type_expressions(scope))},\n"
            for _ in range(draw(st.integers(1, 4)))
        )
        text = f"{indent}record {name} {{\n{body}{indent}}}\n"
    elif kind == 1:
        cases = Names(draw)
        body = ""
        for _ in range(draw(st.integers(1, 4))):
            payload = f"({draw(type_expressions(scope))})" if draw(st.booleans()) else ""
            body += f"{inner}{cases.fresh()}{payload},\n"
        text = f"{indent}variant {name} {{\n{body}{indent}}}\n"
    elif kind == 2:
        cases = Names(draw)
        body = ", ".join(cases.fresh() for _ in range(draw(st.integers(1, 5))))
        text = f"{indent}enum {name} {{ {body} }}\n"
    elif kind == 3:
        flags = Names(draw)
        body = ", ".join(flags.fresh() for _ in range(draw(st.integers(1, 32))))
        text = f"{indent}flags {name} {{ {body} }}\n"
    elif kind == 4:
        scope.resources.append(name)
        members = Names(
            draw, {name.lstrip("%").lower()}
        )  # a member named like its resource clashes
        body = ""
        if draw(st.booleans()):
            body += f"{inner}constructor({draw(parameters(scope))});\n"
        for _ in range(draw(st.integers(0, 3))):
            static = "static " if draw(st.booleans()) else ""
            body += f"{inner}{members.fresh()}: {static}{draw(signatures(scope))};\n"
        text = (
            f"{indent}resource {name} {{\n{body}{indent}}}\n"
            if body
            else f"{indent}resource {name};\n"
        )
        return head + text
    else:
        text = f"{indent}type {name} = {draw(type_expressions(scope))};\n"
    scope.values.append(name)
    return head + text


@dataclass
class InterfaceInfo:
    name: str
    exported_types: list[str]  # names another interface can `use`
    resources: list[str]
    uses_others: bool = False  # exporting such an interface can clash with its imports


@st.composite
def interfaces(
    draw: st.DrawFn, names: Names, earlier: list[InterfaceInfo], version: str | None
) -> tuple[str, InterfaceInfo]:
    name = names.fresh()
    scope = Scope()
    local = Names(draw)
    lines = []
    for other in draw(
        st.lists(st.sampled_from(earlier), max_size=2, unique_by=lambda i: i.name)
        if earlier
        else st.just([])
    ):
        picks = (
            draw(st.lists(st.sampled_from(other.exported_types), max_size=3, unique=True))
            if other.exported_types
            else []
        )
        items = []
        for t in picks:
            if draw(st.booleans()) or not local.claim(t):
                alias = local.fresh()
                items.append(f"{t} as {alias}")
                new = alias
            else:
                items.append(t)
                new = t
            (scope.resources if t in other.resources else scope.values).append(new)
        lines.append(f"  use {other.name}.{{{', '.join(items)}}};\n")
    items_text = []
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.booleans()):
            items_text.append(draw(type_definitions(scope, local, "  ", version)))
        else:
            items_text.append(draw(functions(scope, local, "  ", version)))
    text = (
        draw(docs(""))
        + attribute(draw, version, "", unstable=False)
        + f"interface {name} {{\n"
        + "".join(lines)
        + "".join(items_text)
        + "}\n"
    )
    exported = [n for n in scope.values + scope.resources]
    return text, InterfaceInfo(name, exported, list(scope.resources), bool(lines))


@st.composite
def worlds(
    draw: st.DrawFn,
    names: Names,
    ifaces: list[InterfaceInfo],
    earlier: list[str],
    func_names: Names,
    version: str | None,
) -> str:
    name = names.fresh()
    body = []
    used_ifaces: set[tuple[str, str]] = set()
    # A world that includes another leaves its interfaces imported or exported by path without
    # stability: the included world may list the same interface under another one, which
    # wit-parser calls a "mismatch in stability" (an unannotated one takes the other's).
    included = draw(st.sampled_from(earlier)) if earlier and draw(st.booleans()) else None
    for direction in ("import", "export"):
        for _ in range(draw(st.integers(0, 3))):
            choice = draw(st.integers(0, 3))
            attr = attribute(draw, version, "  ")
            if choice == 0 and included is not None:
                attr = ""
            # Only interfaces without `use` are exported: an exported interface whose
            # dependencies are also imported "depends on an interface in incompatible ways".
            eligible = [i for i in ifaces if direction == "import" or not i.uses_others]
            if choice == 0 and eligible:
                iface = draw(st.sampled_from(eligible))
                if (direction, iface.name) in used_ifaces:
                    continue
                used_ifaces.add((direction, iface.name))
                body.append(f"{attr}  {direction} {iface.name};\n")
            elif choice == 3 and eligible:  # the same interface under a plain name
                iface = draw(st.sampled_from(eligible))
                body.append(f"{attr}  {direction} {func_names.fresh()}: {iface.name};\n")
            elif choice == 1:
                body.append(
                    f"{attr}  {direction} {func_names.fresh()}: {draw(signatures(Scope()))};\n"
                )
            else:
                inner_scope = Scope()
                inner = draw(functions(inner_scope, Names(draw), "    ", version))
                body.append(
                    f"{attr}  {direction} {func_names.fresh()}: interface {{\n{inner}  }}\n"
                )
    if included is not None:
        body.append(f"  include {included};\n")
    head = draw(docs("")) + attribute(draw, version, "", unstable=False)
    return head + f"world {name} {{\n{''.join(body)}}}\n"


@dataclass
class PackageParts:
    name: str  # ns:pkg@version
    docs: str
    items: list[str]  # interface and world texts, in order
    interfaces: list[InterfaceInfo]  # as other packages refer to them (full paths)

    def as_file(self) -> str:
        return "\n".join([f"{self.docs}package {self.name};\n", *self.items])

    def as_nested_block(self) -> str:
        return f"package {self.name} {{\n" + "".join(self.items) + "}\n"


PACKAGE_WORD = r"[a-z][a-z0-9]{0,5}(-[a-z][a-z0-9]{0,3})?"


@st.composite
def package_parts(
    draw: st.DrawFn, foreign: tuple[InterfaceInfo, ...] = (), prefix: str = ""
) -> PackageParts:
    """One package's items; `foreign` interfaces (by full path) may be used and imported."""
    top = Names(draw)
    namespace = prefix + draw(st.from_regex(PACKAGE_WORD, fullmatch=True))
    pkg_name = draw(st.from_regex(PACKAGE_WORD, fullmatch=True))
    if namespace in KEYWORDS or pkg_name in KEYWORDS:
        namespace, pkg_name = f"ns-{namespace}", f"pkg-{pkg_name}"
    version = draw(st.one_of(st.none(), versions()))
    full = f"{namespace}:{pkg_name}{'@' + version if version else ''}"
    items: list[str] = []
    infos: list[InterfaceInfo] = []
    for _ in range(draw(st.integers(0, 4))):
        text, info = draw(interfaces(top, [*foreign, *infos], version))
        items.append(text)
        infos.append(info)
    world_names: list[str] = []
    func_names = Names(draw)
    for _ in range(draw(st.integers(0, 3))):
        text = draw(worlds(top, [*foreign, *infos], world_names, func_names, version))
        world_names.append(text.split("world ", 1)[1].split(" ", 1)[0])
        items.append(text)
    base, _, ver = full.partition("@")
    public = [
        InterfaceInfo(
            f"{base}/{i.name}{'@' + ver if ver else ''}",
            i.exported_types,
            i.resources,
            i.uses_others,
        )
        for i in infos
    ]
    return PackageParts(full, draw(docs("")), items, public)


@st.composite
def wit_packages(draw: st.DrawFn) -> str:
    """The text of one valid single-file WIT package."""
    return draw(package_parts()).as_file()


@st.composite
def wit_package_sets(draw: st.DrawFn) -> dict[str, str]:
    """A package that uses another one, laid out as files (relative path -> text): the
    dependency nested in the same file, or under `deps/` as a file or a directory."""
    dep = draw(package_parts(prefix="dep-"))
    main = draw(package_parts(foreign=tuple(dep.interfaces), prefix="main-"))
    layout = draw(st.sampled_from(["nested", "deps-file", "deps-dir"]))
    if layout == "nested":
        return {"main.wit": main.as_file() + "\n" + dep.as_nested_block()}
    if layout == "deps-file":
        return {"main.wit": main.as_file(), "deps/dep.wit": dep.as_file()}
    return {"main.wit": main.as_file(), "deps/dep/pkg.wit": dep.as_file()}


# ---------------------------------------------------------------------------- mutations

TOKEN = re.compile(r"%?[A-Za-z][A-Za-z0-9-]*|\d+|///[^\n]*|/\*\*?|\*/|->|\s+|.", re.S)
JUNK = [
    "{",
    "}",
    ";",
    ":",
    "<",
    ">",
    ",",
    "(",
    ")",
    "%",
    "@",
    "/*",
    "*/",
    "///",
    "-",
    "--",
    "1",
    "é",
    "\t",
    "\x00",
    "\u202e",
    "_",
    "=",
    "package",
    "use",
    "type",
    "func",
    "as",
    "borrow<",
    "own",
    "static",
    "async",
    "interface",
    "world",
    "include",
    "with",
    "@since(",
    "@unstable(feature = x)",
    "a-",
    "-a",
    "A-b",
    "0.1",
    "@1.0",
    "/",
    ".",
    "*",
    '"',
]


@st.composite
def mutants(draw: st.DrawFn) -> str:
    tokens = TOKEN.findall(draw(wit_packages()))
    for _ in range(draw(st.integers(1, 3))):
        if not tokens:
            break
        i = draw(st.integers(0, len(tokens) - 1))
        op = draw(st.integers(0, 3))
        if op == 0:
            del tokens[i]
        elif op == 1:
            tokens.insert(i, tokens[i])
        elif op == 2 and i + 1 < len(tokens):
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
        else:
            tokens.insert(i, draw(st.sampled_from(JUNK)))
    return "".join(tokens)


# ---------------------------------------------------------------------------- properties


def agree_with_wasm_tools(text: str, mode: Mode = DEFAULT) -> None:
    note(text)
    path = write_scratch(text)
    oracle = wasm_tools(path, mode)
    outcome = load_with_witgen(path, mode)  # anything but a WitgenError propagates: a crash
    if outcome.ok:
        assert oracle.ok, f"we accept what wasm-tools rejects:\n{oracle.stderr}"
        diff = first_difference(outcome.doc, oracle.json())
        assert diff is None, diff
        return
    assert isinstance(outcome.error, (WitError, WitErrors)), repr(outcome.error)
    assert not oracle.ok, f"we reject what wasm-tools accepts:\n{outcome.error}"
    assert outcome.span is not None, f"error without a location: {outcome.error}"


@pytest.fixture(autouse=True)
def _wasm_tools_installed() -> None:
    require_tool("wasm-tools")


@FUZZ
@given(wit_packages())
@example("package a:b;\n")
def test_generated_packages_are_valid_and_match_wasm_tools(text: str) -> None:
    assert wasm_tools(write_scratch(text)).ok, "the generator produced invalid WIT"
    agree_with_wasm_tools(text)


@FUZZ
@given(wit_packages())
def test_generated_packages_with_all_features(text: str) -> None:
    agree_with_wasm_tools(text, ALL_FEATURES)


@FUZZ
@given(wit_package_sets())
def test_generated_packages_with_dependencies_match_wasm_tools(files: dict[str, str]) -> None:
    note(repr(files))
    root = write_scratch_tree(files)
    path = root / "main.wit" if len(files) == 1 else root
    assert wasm_tools(path).ok, "the generator produced invalid WIT"
    for mode in (DEFAULT, ALL_FEATURES):
        oracle = wasm_tools(path, mode)
        assert oracle.ok, f"the generator produced invalid WIT ({mode.name}):\n{oracle.stderr}"
        outcome = load_with_witgen(path, mode)
        assert outcome.ok, f"we reject what wasm-tools accepts: {outcome.error}"
        diff = first_difference(outcome.doc, oracle.json())
        assert diff is None, diff


@FUZZ
@given(mutants())
@example("package a:b;\ninterface i { f: func(; }\n")
@example("package a:b;\n/* open")
@example("package a:b;\ninterface i { type %%x = u8; }\n")
def test_mutated_packages_never_crash_and_agree_with_wasm_tools(text: str) -> None:
    agree_with_wasm_tools(text)


@FUZZ
@given(mutants())
def test_mutated_packages_errors_point_where_wasm_tools_points(text: str) -> None:
    note(text)
    path = write_scratch(text)
    oracle = wasm_tools(path, DEFAULT)
    outcome = load_with_witgen(path, DEFAULT)
    if oracle.ok or outcome.ok or outcome.span is None:
        return  # covered by the property above
    expected = oracle.locations
    if expected:
        assert (
            span_location(outcome.span) in expected
        ), f"ours {span_location(outcome.span)}, wasm-tools:\n{oracle.stderr}"
