"""The stateful shape of the Rust SDK: a plugin is a value built once per component instance.

For every exported interface of a world, `src/stateful.rs` gets a `<Trait>State` trait whose
functions take `&mut self`, with `fn new() -> Result<Self, PluginError>` run before the first
call (read the configuration there), and an `export_<world>_stateful!(YourType)` macro. An
adapter implements the static trait over the value; when `new` failed, every call returns that
error through the function's own error channel (`result<_, plugin-error>`, a variant case
carrying a plugin-error, or one per record for lists of those), and traps otherwise.

Generated only when the contract defines a `plugin-error` type (the constructor's error);
the static traits and `export_<world>!` stay as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from witgen import ir
from witgen.backends.rust.names import ALLOC_PATHS, type_name

ERROR_TYPE = "plugin-error"


@dataclass
class _Fn:
    docs: list[str]
    static_sig: str  # `fn process(record: DataRecord) -> ProcessingResult`
    state_sig: str  # `fn process(&mut self, record: DataRecord) -> ProcessingResult`
    body: str


def _target(resolve: ir.Resolve, ty: ir.Type | None) -> ir.Type | None:
    while isinstance(ty, int) and isinstance(resolve.types[ty].kind, ir.Alias):
        kind = resolve.types[ty].kind
        assert isinstance(kind, ir.Alias)
        ty = kind.type
    return ty


def find_error_type(resolve: ir.Resolve) -> int | None:
    main = resolve.main_package
    if main is None:
        return None
    for iid in resolve.packages[main].interfaces.values():
        tid = resolve.interfaces[iid].types.get(ERROR_TYPE)
        if tid is not None:
            target = _target(resolve, tid)
            return target if isinstance(target, int) else None
    return None


def _parse_sig(sig: str) -> tuple[str, str, str | None]:
    """(name, parameter list, result type or None) of `fn name(params) -> result`."""
    match = re.match(r"fn (\w+)\(", sig)
    assert match is not None, sig
    depth, start = 1, match.end()
    for i in range(start, len(sig)):
        depth += {"(": 1, ")": -1}.get(sig[i], 0)
        if depth == 0:
            rest = sig[i + 1 :].strip()
            return match.group(1), sig[start:i], rest.removeprefix("->").strip() or None
    raise AssertionError(sig)


def _split_params(text: str) -> list[str]:
    """Parameter names of a Rust parameter list (commas inside <> and () are not separators)."""
    names, depth, start = [], 0, 0
    for i, ch in enumerate(text + ","):
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        elif ch == "," and depth == 0:
            part = text[start:i].strip()
            if part:
                names.append(part.split(":", 1)[0].strip())
            start = i + 1
    return names


def _embed(
    resolve: ir.Resolve, ty: ir.Type | None, rust_ty: str, err: int, count: str | None
) -> str | None:
    """A Rust expression of type `rust_ty` carrying `e_` (a plugin-error), or None."""
    target = _target(resolve, ty)
    if not isinstance(target, int):
        return None
    kind = resolve.types[target].kind
    if isinstance(kind, ir.Result) and _target(resolve, kind.err) == err:
        return "Err(e_)"
    if isinstance(kind, ir.Variant):
        for case in kind.cases:
            if _target(resolve, case.type) == err:
                name = rust_ty.split("<", 1)[0]
                return f"{name}::{type_name(case.name)}(e_)"
    if isinstance(kind, ir.List) and count is not None:
        match = re.fullmatch(r"Vec<(.*)>", rust_ty)
        if match is None:
            return None
        inner = _embed(resolve, kind.type, match.group(1), err, None)
        if inner is None:
            return None
        return f"(0..{count})\n.map(|_| {inner.replace('(e_)', '(e_.clone())')})\n.collect()"
    return None


def _function(
    resolve: ir.Resolve, func: ir.Function, sig: str, docs: list[str], err: int, trait: str
) -> _Fn:
    ident, params, ret = _parse_sig(sig.strip().rstrip(";"))
    names = _split_params(params)
    state_sig = f"fn {ident}(&mut self{', ' if params.strip() else ''}{params})" + (
        f" -> {ret}" if ret else ""
    )
    counted = next(
        (
            (_name, p)
            for _name, p in zip(names, func.params)
            if isinstance(_target(resolve, p.type), int)
            and isinstance(resolve.types[_target(resolve, p.type)].kind, ir.List)  # type: ignore[index]
        ),
        None,
    )
    count = None if counted is None else "n_"
    embed = _embed(resolve, func.result, ret or "()", err, count) if ret else None
    call = f"s_.{ident}({', '.join(names)})"
    if embed is None:
        fail = 'panic!("the plugin could not start: {:?}", e_)'
    else:
        fail = embed
    lines = []
    result = _target(resolve, func.result)
    # `_embed` names the count only for a list of results (one error per input record)
    per_record = isinstance(result, int) and isinstance(resolve.types[result].kind, ir.List)
    if counted is not None and embed is not None and per_record:
        lines.append(f"let n_ = {counted[0]}.len();")
    lines += ["with_state(", f"    <T_ as {trait}State>::new,", f"    move |s_| {call},"]
    if "\n" in fail and len(fail.replace("\n", "")) > 60:  # rustfmt's chain_width
        first, *rest = fail.splitlines()
        lines += ["    |e_| {", f"        {first}", *(f"            {r}" for r in rest), "    },"]
    elif "\n" in fail:
        lines.append(f"    |e_| {fail.replace(chr(10), '')},")
    elif re.fullmatch(r"[\w:]+\(e_\)", fail):  # a tuple variant is itself the function
        lines.append(f"    {fail.removesuffix('(e_)')},")
    else:
        lines.append(f"    |e_| {fail},")
    lines.append(")")
    args = [line.strip() for line in lines[-4:-1]] if lines[-2].strip() != "}," else []
    one_line = f"with_state({', '.join(a.rstrip(',') for a in args)})"
    if args and "\n" not in fail and len(one_line) - 12 <= 60 and len(one_line) + 16 <= 100:
        lines[-5:] = [one_line]  # rustfmt keeps a short call on one line (fn_call_width)
    return _Fn(docs, sig.strip().rstrip(";"), state_sig, "\n".join(lines))


def module_text(
    resolve: ir.Resolve,
    world_id: int,
    world_mod: str,
    macro: str,
    exports: list[tuple[str, str, list[tuple[str, str]], list[Any]]],
    error_path: str,
    err: int,
) -> tuple[str, str]:
    """(module text, macro text) of one world. `exports`: (module name, static trait, assoc
    types (name, bound), trait fns (`rust.ImportFn`)) per exported interface."""
    world = resolve.worlds[world_id]
    funcs_by_ident: dict[str, dict[str, ir.Function]] = {}
    for entry in world.exports:
        item = entry.item
        if isinstance(item, ir.WorldInterface):
            iface = resolve.interfaces[item.id]
            funcs_by_ident[iface.name or ""] = {
                re.sub(r"\W", "_", f.name).lstrip("_"): f
                for f in iface.functions.values()
                if f.resource is None
            }
    out = [f"pub mod {world_mod} {{"]
    impls: list[str] = []
    for mod, trait, assoc, fns in exports:
        funcs = funcs_by_ident.get(mod.removeprefix("r#"), {})
        out.append(f"    pub mod {mod} {{")
        uses = ["crate::stateful::{with_state, HasState}", f"crate::{world_mod}::{mod}::*"]
        # The `alloc` types the trait signatures name, as recorded while they were made.
        named = set().union(*(f.alloc_types for f in fns))
        uses += [ALLOC_PATHS[n] for n in named]
        crate_first = sorted(uses, key=lambda u: (not u.startswith("crate::"), u))  # as rustfmt
        out += [f"        use {u};" for u in crate_first]
        out.append("")
        out.append(
            f"        /// `{trait}` with state: the plugin is a value, built by `new` once per"
        )
        out.append(
            "        /// component instance before its first call (read the configuration there)."
        )
        out.append(f"        /// Export it with `{macro}_stateful!(YourType)`.")
        out.append(f"        pub trait {trait}State: Sized + 'static {{")
        for name, bound in assoc:
            out.append(f"            /// Your implementation of `{name}`.")
            out.append(f"            type {name}: {bound};")
        out.append("            /// Builds the plugin; an error is returned by every call instead.")
        out.append(f"            fn new() -> Result<Self, {error_path}>;")
        built = []
        for trait_fn in fns:
            docs, sig = trait_fn.docs, trait_fn.signature
            ident = re.match(r"\s*fn (\w+)", sig)
            assert ident is not None
            func = funcs.get(ident.group(1).removeprefix("r#"))
            if func is None:
                continue
            fn = _function(resolve, func, sig, docs, err, trait)
            built.append(fn)
            for line in fn.docs:
                out.append(f"            {line}")
            out += _wrap_sig(f"            {fn.state_sig};")
        out.append("        }")
        out.append("")
        out.append(f"        /// Adapts a `{trait}State` to the static `{trait}` trait.")
        out.append("        pub struct Stateful<T_>(core::marker::PhantomData<T_>);")
        out.append("")
        out.append(f"        impl<T_: {trait}State + HasState> {trait} for Stateful<T_> {{")
        for name, _ in assoc:
            out.append(f"            type {name} = T_::{name};")
        for fn in built:
            out += _wrap_sig(f"            {fn.static_sig} {{")
            for line in fn.body.splitlines():
                out.append(f"                {line}")
            out.append("            }")
        out.append("        }")
        out.append("    }")
        impls.append(f"$crate::stateful::{world_mod}::{mod}::Stateful<$ty>")
    out.append("}")
    assert len(impls) == 1, "one exported interface per world"
    invoke = f"        $crate::{macro}!({impls[0]});"
    if len(invoke) > 100:
        invoke = f"        $crate::{macro}!(\n            {impls[0]}\n        );"
    macro_text = f"""/// Exports `$ty` (which implements this world's `...State` trait) as the component's plugin.
#[macro_export]
macro_rules! {macro}_stateful {{
    ($ty:ty) => {{
        impl $crate::stateful::HasState for $ty {{
            fn cell() -> &'static $crate::stateful::StateCell<Self> {{
                static CELL_: $crate::stateful::StateCell<$ty> = $crate::stateful::StateCell::new();
                &CELL_
            }}
        }}
{invoke}
    }};
}}
"""
    return "\n".join(out) + "\n", macro_text


def _wrap_sig(line: str) -> list[str]:
    """rustfmt's layout of a function signature longer than 100 columns: one parameter a line."""
    if len(line) <= 100:
        return [line]
    indent = line[: len(line) - len(line.lstrip())]
    match = re.fullmatch(r"(\s*fn \w+)\((.*)\)(.*)", line)
    assert match is not None, line
    head, params, tail = match.groups()
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(params + ","):
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        elif ch == "," and depth == 0:
            if params[start:i].strip():
                parts.append(params[start:i].strip())
            start = i + 1
    return [f"{head}(", *(f"{indent}    {p}," for p in parts), f"{indent}){tail}"]


def runtime_text(error_path: str) -> str:
    return f"""//! Stateful plugins: a value of your type per component instance, built on first use.
//!
//! Implement a world's `<Interface>State` trait (functions take `&mut self`, `new()` builds the
//! value from the host's configuration and may fail with a plugin-error), then export it with
//! `export_<world>_stateful!(YourType)`. The static traits and `export_<world>!` remain.

use core::cell::UnsafeCell;

/// Where one plugin value lives (components are single-threaded).
pub struct StateCell<T> {{
    slot: UnsafeCell<Option<Result<T, {error_path}>>>,
}}

// SAFETY: a component instance runs on one thread; calls into it never overlap.
unsafe impl<T> Sync for StateCell<T> {{}}

impl<T> StateCell<T> {{
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {{
        StateCell {{
            slot: UnsafeCell::new(None),
        }}
    }}
}}

/// Implemented by the export macro: the cell holding the plugin value.
#[doc(hidden)]
pub trait HasState: Sized + 'static {{
    fn cell() -> &'static StateCell<Self>;
}}

/// Runs `call` on the plugin value (built first, once), or `fail` with the error `new` gave.
#[doc(hidden)]
pub fn with_state<T: HasState, R>(
    new: fn() -> Result<T, {error_path}>,
    call: impl FnOnce(&mut T) -> R,
    fail: impl FnOnce({error_path}) -> R,
) -> R {{
    // SAFETY: single-threaded and not re-entered (a call finishes before the next starts).
    let slot = unsafe {{ &mut *T::cell().slot.get() }};
    if slot.is_none() {{
        *slot = Some(new());
    }}
    match slot.as_mut() {{
        Some(Ok(state)) => call(state),
        Some(Err(err)) => fail(err.clone()),
        None => unreachable!(),
    }}
}}
"""


def add_to(
    files: dict[str, str],
    resolve: ir.Resolve,
    worlds: list[int],
    models: list[Any],
    shared: list[Any],
) -> None:
    """The backend's hook: add `src/stateful.rs` (and its `mod`) when the contract allows."""
    err = find_error_type(resolve)
    if err is None:
        return
    owner = resolve.types[err].owner
    paths = {sm.iface_id: sm.rust_path for sm in shared}
    if owner is None or owner.kind != "interface" or owner.id not in paths:
        return
    error_path = f"{paths[owner.id]}::{type_name(ERROR_TYPE)}"
    parts = [runtime_text(error_path)]
    macros = []
    for wid, model in zip(worlds, models):
        exports = [
            (m.name, m.trait, m.trait_assoc, m.trait_fns)
            for m in model.modules
            if m.direction == "export" and m.trait and not m.reexport
        ]
        if len(exports) != 1:
            continue  # the stateful shape is for plugin worlds: one exported interface
        if any(m.uses_async for m in model.modules):
            continue  # and synchronous ones: an async task has no instance state to lend
        text, macro = module_text(resolve, wid, model.name, model.macro, exports, error_path, err)
        parts.append(text)
        macros.append(macro)
    if len(parts) == 1:
        return
    files["src/stateful.rs"] = "\n".join(parts + macros)
    files["src/lib.rs"] += "\n/// Stateful plugins: see the module.\npub mod stateful;\n"
