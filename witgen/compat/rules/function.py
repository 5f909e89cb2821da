"""Rules over function signatures. A signature is compared exactly: parameter names are part
of a component function type, and nothing in the canonical ABI is optional."""

from __future__ import annotations

from witgen import ir
from witgen.compat.engine import Checker, Site
from witgen.compat.registry import rule
from witgen.compat.rules.members import diff
from witgen.compat.types import describe

_KIND_WORDS = {
    "freestanding": "function",
    "method": "method",
    "static": "static function",
    "constructor": "constructor",
}


def _kind(kind: str) -> str:
    """`async-method` -> `async method`, `freestanding` -> `function`."""
    if kind.startswith("async-"):
        return "async " + _KIND_WORDS.get(kind[len("async-") :], kind)
    return _KIND_WORDS.get(kind, kind)


@rule(
    "FUNC_KIND_CHANGED",
    category="FUNCTION",
    target="function",
    summary="a function changed between sync and async, or method, static and constructor",
)
def func_kind_changed(ck: Checker, site: Site, old: ir.Function, new: ir.Function) -> None:
    if old.kind != new.kind:
        ck.report(
            "FUNC_KIND_CHANGED",
            site,
            site.changed,
            f"`{new.item_name}` changed from {_article(_kind(old.kind))} to "
            f"{_article(_kind(new.kind))}",
        )


def _article(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


@rule("FUNC_PARAM_ADDED", category="FUNCTION", target="function", summary="a parameter was added")
def func_param_added(ck: Checker, site: Site, old: ir.Function, new: ir.Function) -> None:
    for i in diff(old.params, new.params).added:
        p = new.params[i]
        ck.report(
            "FUNC_PARAM_ADDED",
            site,
            site.changed,
            f"`{new.item_name}` has a new parameter `{p.name}: {describe(ck.new.resolve, p.type)}`",
            span=p.span,
        )


@rule(
    "FUNC_PARAM_REMOVED", category="FUNCTION", target="function", summary="a parameter was removed"
)
def func_param_removed(ck: Checker, site: Site, old: ir.Function, new: ir.Function) -> None:
    for i in diff(old.params, new.params).removed:
        p = old.params[i]
        ck.report(
            "FUNC_PARAM_REMOVED",
            site,
            site.changed,
            f"`{new.item_name}` lost its parameter `{p.name}`",
            old_span=p.span,
        )


@rule(
    "FUNC_PARAM_RENAMED",
    category="FUNCTION",
    target="function",
    summary="a parameter was renamed (parameter names are part of the function type)",
)
def func_param_renamed(ck: Checker, site: Site, old: ir.Function, new: ir.Function) -> None:
    for i in diff(old.params, new.params).renamed:
        ck.report(
            "FUNC_PARAM_RENAMED",
            site,
            site.changed,
            f"parameter `{old.params[i].name}` of `{new.item_name}` was renamed to "
            f"`{new.params[i].name}`",
            span=new.params[i].span,
            old_span=old.params[i].span,
        )


@rule(
    "FUNC_PARAM_REORDERED",
    category="FUNCTION",
    target="function",
    summary="parameters were reordered",
)
def func_param_reordered(ck: Checker, site: Site, old: ir.Function, new: ir.Function) -> None:
    if diff(old.params, new.params).reordered:
        before = ", ".join(p.name for p in old.params)
        after = ", ".join(p.name for p in new.params)
        ck.report(
            "FUNC_PARAM_REORDERED",
            site,
            site.changed,
            f"parameters of `{new.item_name}` were reordered from ({before}) to ({after})",
        )


@rule(
    "FUNC_PARAM_TYPE_CHANGED",
    category="FUNCTION",
    target="function",
    summary="a parameter's type changed",
)
def func_param_type_changed(ck: Checker, site: Site, old: ir.Function, new: ir.Function) -> None:
    d = diff(old.params, new.params)
    pairs = d.common + [(i, i) for i in d.renamed]
    for oi, ni in sorted(pairs, key=lambda p: p[1]):
        po, pn = old.params[oi], new.params[ni]
        if ck.types.equal(po.type, pn.type, shallow=True):
            continue
        ck.report(
            "FUNC_PARAM_TYPE_CHANGED",
            site,
            site.changed,
            f"parameter `{pn.name}` of `{new.item_name}` changed type from "
            f"`{describe(ck.old.resolve, po.type)}` to `{describe(ck.new.resolve, pn.type)}`",
            span=pn.span,
            old_span=po.span,
        )


@rule(
    "FUNC_RESULT_CHANGED",
    category="FUNCTION",
    target="function",
    summary="a function's result type was added, removed or changed",
)
def func_result_changed(ck: Checker, site: Site, old: ir.Function, new: ir.Function) -> None:
    if ck.types.equal(old.result, new.result, shallow=True):
        return
    before = describe(ck.old.resolve, old.result)
    after = describe(ck.new.resolve, new.result)
    ck.report(
        "FUNC_RESULT_CHANGED",
        site,
        site.changed,
        f"result of `{new.item_name}` changed from `{before}` to `{after}`",
    )
