"""Rules over type definitions: kinds, aliases, and the fields, cases and flags of a type.

Every structural change is breaking on the wire: the canonical ABI has no optional fields, a
case's discriminant is its position, and a flag is a bit at its position.
"""

from __future__ import annotations


from witgen import ir
from witgen.compat.engine import Checker, Site
from witgen.compat.registry import rule
from witgen.compat.rules.members import Member, diff, members_of, rename_hint
from witgen.compat.types import describe, kind_word

STRUCTURED = (ir.Record, ir.Variant, ir.Enum, ir.Flags, ir.Resource)


@rule(
    "TYPE_KIND_CHANGED",
    category="TYPE",
    target="typedef",
    summary="a named type changed kind (e.g. from a record to a variant)",
)
def type_kind_changed(ck: Checker, site: Site, old_id: int, new_id: int) -> None:
    old_t, new_t = ck.old.resolve.types[old_id], ck.new.resolve.types[new_id]
    if type(old_t.kind) is type(new_t.kind):
        return
    if ck.types.same_definition(old_id, new_id):
        return  # e.g. `type t = r` and `type t = s` where r and s have the same shape
    before = kind_word(old_t.kind), describe(ck.old.resolve, ck.old.resolve.dealias(old_id))
    after = kind_word(new_t.kind), describe(ck.new.resolve, ck.new.resolve.dealias(new_id))
    ck.report(
        "TYPE_KIND_CHANGED",
        site,
        site.changed,
        f"`{new_t.name}` changed from {before[0]} `{before[1]}` to {after[0]} `{after[1]}`",
    )


@rule(
    "TYPE_DEFINITION_CHANGED",
    category="TYPE",
    target="typedef",
    summary="a type alias or other unstructured type now stands for a different type",
)
def type_definition_changed(ck: Checker, site: Site, old_id: int, new_id: int) -> None:
    old_t, new_t = ck.old.resolve.types[old_id], ck.new.resolve.types[new_id]
    if type(old_t.kind) is not type(new_t.kind) or isinstance(new_t.kind, STRUCTURED):
        return
    if ck.types.same_definition(old_id, new_id):
        return
    # Describe the definitions themselves, not the (unchanged) names they are declared under.
    before = describe(ck.old.resolve, _definition(old_t))
    after = describe(ck.new.resolve, _definition(new_t))
    ck.report(
        "TYPE_DEFINITION_CHANGED",
        site,
        site.changed,
        f"type `{new_t.name}` changed from `{before}` to `{after}`",
    )


def _definition(td: ir.TypeDef) -> ir.Type | None:
    if isinstance(td.kind, ir.Alias):
        return td.kind.type
    return None


# -- members: one helper per outcome, used by the per-kind rules below --


def _owner(site: Site) -> str:
    """`record `rec`` from a site path ending in "record rec"."""
    word, _, name = site.path.rsplit(" > ", 1)[-1].partition(" ")
    return f"{word} `{name}`"


def _report_added(
    ck: Checker, rule_id: str, site: Site, noun: str, old: ir.TypeDefKind, new: ir.TypeDefKind
) -> None:
    o, n = members_of(old), members_of(new)
    for i in diff(o, n).added:
        ck.report(
            rule_id,
            site,
            site.changed,
            f"{noun} `{n[i].name}` was added to {_owner(site)}",
            span=n[i].span,
        )


def _report_removed(
    ck: Checker, rule_id: str, site: Site, noun: str, old: ir.TypeDefKind, new: ir.TypeDefKind
) -> None:
    o, n = members_of(old), members_of(new)
    d = diff(o, n)
    for i in d.removed:
        similar = [
            n[j].name
            for j in d.added
            if hasattr(o[i], "type")
            and ck.types.equal(_member_type(o[i]), _member_type(n[j]), shallow=False)
        ]
        ck.report(
            rule_id,
            site,
            site.changed,
            f"{noun} `{o[i].name}` was removed from {_owner(site)}" + rename_hint("type", similar),
            old_span=o[i].span,
        )


def _report_renamed(
    ck: Checker, rule_id: str, site: Site, noun: str, old: ir.TypeDefKind, new: ir.TypeDefKind
) -> None:
    o, n = members_of(old), members_of(new)
    for i in diff(o, n).renamed:
        ck.report(
            rule_id,
            site,
            site.changed,
            f"{noun} `{o[i].name}` of {_owner(site)} was renamed to `{n[i].name}`",
            span=n[i].span,
            old_span=o[i].span,
        )


def _report_reordered(
    ck: Checker, rule_id: str, site: Site, noun: str, old: ir.TypeDefKind, new: ir.TypeDefKind
) -> None:
    o, n = members_of(old), members_of(new)
    if diff(o, n).reordered:
        before = ", ".join(m.name for m in o)
        after = ", ".join(m.name for m in n)
        ck.report(
            rule_id,
            site,
            site.changed,
            f"{noun}s of {_owner(site)} were reordered from ({before}) to ({after})",
        )


def _member_type(m: Member) -> ir.Type | None:
    return getattr(m, "type", None)


def _report_type_changed(
    ck: Checker, rule_id: str, site: Site, noun: str, old: ir.TypeDefKind, new: ir.TypeDefKind
) -> None:
    o, n = members_of(old), members_of(new)
    d = diff(o, n)
    for oi, ni in sorted(d.common + [(i, i) for i in d.renamed], key=lambda p: p[1]):
        before, after = _member_type(o[oi]), _member_type(n[ni])
        if ck.types.equal(before, after, shallow=True):
            continue
        ck.report(
            rule_id,
            site,
            site.changed,
            f"{noun} `{n[ni].name}` of {_owner(site)} changed type from "
            f"`{describe(ck.old.resolve, before)}` to `{describe(ck.new.resolve, after)}`",
            span=n[ni].span,
            old_span=o[oi].span,
        )


@rule(
    "RECORD_FIELD_ADDED", category="TYPE", target="record", summary="a field was added to a record"
)
def record_field_added(ck: Checker, site: Site, old: ir.Record, new: ir.Record) -> None:
    _report_added(ck, "RECORD_FIELD_ADDED", site, "field", old, new)


@rule(
    "RECORD_FIELD_REMOVED",
    category="TYPE",
    target="record",
    summary="a field was removed from a record",
)
def record_field_removed(ck: Checker, site: Site, old: ir.Record, new: ir.Record) -> None:
    _report_removed(ck, "RECORD_FIELD_REMOVED", site, "field", old, new)


@rule(
    "RECORD_FIELD_RENAMED",
    category="TYPE",
    target="record",
    summary="a field of a record was renamed",
)
def record_field_renamed(ck: Checker, site: Site, old: ir.Record, new: ir.Record) -> None:
    _report_renamed(ck, "RECORD_FIELD_RENAMED", site, "field", old, new)


@rule(
    "RECORD_FIELD_REORDERED",
    category="TYPE",
    target="record",
    summary="the fields of a record were reordered",
)
def record_field_reordered(ck: Checker, site: Site, old: ir.Record, new: ir.Record) -> None:
    _report_reordered(ck, "RECORD_FIELD_REORDERED", site, "field", old, new)


@rule(
    "RECORD_FIELD_TYPE_CHANGED",
    category="TYPE",
    target="record",
    summary="a field of a record changed type",
)
def record_field_type_changed(ck: Checker, site: Site, old: ir.Record, new: ir.Record) -> None:
    _report_type_changed(ck, "RECORD_FIELD_TYPE_CHANGED", site, "field", old, new)


@rule(
    "VARIANT_CASE_ADDED", category="TYPE", target="variant", summary="a case was added to a variant"
)
def variant_case_added(ck: Checker, site: Site, old: ir.Variant, new: ir.Variant) -> None:
    _report_added(ck, "VARIANT_CASE_ADDED", site, "case", old, new)


@rule(
    "VARIANT_CASE_REMOVED",
    category="TYPE",
    target="variant",
    summary="a case was removed from a variant",
)
def variant_case_removed(ck: Checker, site: Site, old: ir.Variant, new: ir.Variant) -> None:
    _report_removed(ck, "VARIANT_CASE_REMOVED", site, "case", old, new)


@rule(
    "VARIANT_CASE_RENAMED",
    category="TYPE",
    target="variant",
    summary="a case of a variant was renamed",
)
def variant_case_renamed(ck: Checker, site: Site, old: ir.Variant, new: ir.Variant) -> None:
    _report_renamed(ck, "VARIANT_CASE_RENAMED", site, "case", old, new)


@rule(
    "VARIANT_CASE_REORDERED",
    category="TYPE",
    target="variant",
    summary="the cases of a variant were reordered",
)
def variant_case_reordered(ck: Checker, site: Site, old: ir.Variant, new: ir.Variant) -> None:
    _report_reordered(ck, "VARIANT_CASE_REORDERED", site, "case", old, new)


@rule(
    "VARIANT_CASE_TYPE_CHANGED",
    category="TYPE",
    target="variant",
    summary="a case of a variant changed its payload type",
)
def variant_case_type_changed(ck: Checker, site: Site, old: ir.Variant, new: ir.Variant) -> None:
    _report_type_changed(ck, "VARIANT_CASE_TYPE_CHANGED", site, "case", old, new)


@rule("ENUM_CASE_ADDED", category="TYPE", target="enum", summary="a case was added to an enum")
def enum_case_added(ck: Checker, site: Site, old: ir.Enum, new: ir.Enum) -> None:
    _report_added(ck, "ENUM_CASE_ADDED", site, "case", old, new)


@rule(
    "ENUM_CASE_REMOVED", category="TYPE", target="enum", summary="a case was removed from an enum"
)
def enum_case_removed(ck: Checker, site: Site, old: ir.Enum, new: ir.Enum) -> None:
    _report_removed(ck, "ENUM_CASE_REMOVED", site, "case", old, new)


@rule("ENUM_CASE_RENAMED", category="TYPE", target="enum", summary="a case of an enum was renamed")
def enum_case_renamed(ck: Checker, site: Site, old: ir.Enum, new: ir.Enum) -> None:
    _report_renamed(ck, "ENUM_CASE_RENAMED", site, "case", old, new)


@rule(
    "ENUM_CASE_REORDERED",
    category="TYPE",
    target="enum",
    summary="the cases of an enum were reordered",
)
def enum_case_reordered(ck: Checker, site: Site, old: ir.Enum, new: ir.Enum) -> None:
    _report_reordered(ck, "ENUM_CASE_REORDERED", site, "case", old, new)


@rule(
    "FLAGS_FLAG_ADDED", category="TYPE", target="flags", summary="a flag was added to a flags type"
)
def flags_flag_added(ck: Checker, site: Site, old: ir.Flags, new: ir.Flags) -> None:
    _report_added(ck, "FLAGS_FLAG_ADDED", site, "flag", old, new)


@rule(
    "FLAGS_FLAG_REMOVED",
    category="TYPE",
    target="flags",
    summary="a flag was removed from a flags type",
)
def flags_flag_removed(ck: Checker, site: Site, old: ir.Flags, new: ir.Flags) -> None:
    _report_removed(ck, "FLAGS_FLAG_REMOVED", site, "flag", old, new)


@rule("FLAGS_FLAG_RENAMED", category="TYPE", target="flags", summary="a flag was renamed")
def flags_flag_renamed(ck: Checker, site: Site, old: ir.Flags, new: ir.Flags) -> None:
    _report_renamed(ck, "FLAGS_FLAG_RENAMED", site, "flag", old, new)


@rule(
    "FLAGS_FLAG_REORDERED",
    category="TYPE",
    target="flags",
    summary="the flags of a flags type were reordered",
)
def flags_flag_reordered(ck: Checker, site: Site, old: ir.Flags, new: ir.Flags) -> None:
    _report_reordered(ck, "FLAGS_FLAG_REORDERED", site, "flag", old, new)
