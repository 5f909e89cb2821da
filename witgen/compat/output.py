"""Printing a report: `text` for people, `json` for tools, `github` for GitHub Actions
workflow annotations (`::error file=F,line=L,col=C,title=RULE::message`).

The JSON document (schema `witgen.compat/v1`; fields are only ever added) is:

    {"schema": "witgen.compat/v1", "old": OLD, "new": NEW, "direction": "guest|host|both",
     "compatible": bool,                      # the exit status is 0 exactly when true
     "breaking": bool,                        # some change fails the direction asked about
     "strict": bool,                          # --strict: a version bump excuses nothing
     "verdict": {"guests": "compatible|breaking", "hosts": "compatible|breaking"},
     "worlds": [{"old": "ns:pkg/w@1.0.0", "new": "ns:pkg/w@1.1.0"}],
     "version": {"old", "new", "required_bump": "none|patch|minor|major", "minimum_next",
                 "declared_bump": "none|patch|minor|major" | null,  # null: not checked
                 "allows_changes": bool},     # NEW's version allows every change found
     "summary": {"error": n, "warning": n, "info": n},
     "findings": [{"rule", "category", "severity": "error|warning|info",
                   "breaks": ["guests", "hosts"], "bump", "message", "path",
                   "location": {"file", "line", "column"} | null, "old_location": ... | null,
                   "suggested_version"?}]}
"""

from __future__ import annotations

import json
from typing import Any, Callable

from witgen.compat.model import Finding, Level, Report, Severity, Side
from witgen.diagnostics import Span, render_location

JSON_SCHEMA = "witgen.compat/v1"
FORMATS = ("text", "json", "github")

ShowSpan = Callable[[Span | None], Span | None]

_BUMP = {Level.NONE: "none", Level.PATCH: "patch", Level.MINOR: "minor", Level.MAJOR: "major"}


def _location(span: Span | None) -> dict[str, Any] | None:
    if span is None:
        return None
    return {"file": span.file, "line": span.line, "column": span.column}


def _verdict(report: Report, side: Side) -> str:
    return "breaking" if report.breaks(side) else "compatible"


def _counts(report: Report) -> dict[str, int]:
    return {s.value: sum(f.severity is s for f in report.findings) for s in Severity}


def to_json(report: Report, old: str, new: str, show: ShowSpan) -> dict[str, Any]:
    findings = []
    for f in report.findings:
        item: dict[str, Any] = {
            "rule": f.rule,
            "category": f.category,
            "severity": f.severity.value,
            "breaks": sorted(s.value for s in f.breaks),
            "bump": _BUMP[f.level],
            "message": f.message,
            "path": f.path,
            "location": _location(show(f.span)),
            "old_location": _location(show(f.old_span)),
        }
        if f.suggested_version is not None:
            item["suggested_version"] = f.suggested_version
        findings.append(item)
    return {
        "schema": JSON_SCHEMA,
        "old": old,
        "new": new,
        "direction": report.direction.value,
        "compatible": report.compatible,
        "breaking": bool(report.breaking),
        "strict": report.strict,
        "verdict": {"guests": _verdict(report, Side.GUESTS), "hosts": _verdict(report, Side.HOSTS)},
        "worlds": [{"old": w.old, "new": w.new} for w in report.worlds],
        "version": {
            "old": report.old_version,
            "new": report.new_version,
            "required_bump": _BUMP[report.required_level],
            "minimum_next": report.minimum_next_version,
            "declared_bump": (
                None if report.declared_level is None else _BUMP[report.declared_level]
            ),
            "allows_changes": report.version_allows,
        },
        "summary": _counts(report),
        "findings": findings,
    }


def _tally(report: Report) -> str:
    c = _counts(report)
    words = (("error", "errors"), ("warning", "warnings"), ("note", "notes"))
    parts = []
    for (one, many), n in zip(words, (c["error"], c["warning"], c["info"])):
        parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts)


def _label(sev: Severity) -> str:
    return "note" if sev is Severity.INFO else sev.value


def _shown(report: Report, verbose: bool) -> list[Finding]:
    """Documentation notes (docs, @since, @deprecated...) only when asked for."""
    return [
        f
        for f in report.findings
        if verbose or f.severity is not Severity.INFO or f.category != "DOCS"
    ]


def _hidden_notes(report: Report, verbose: bool) -> str | None:
    hidden = len(report.findings) - len(_shown(report, verbose))
    if not hidden:
        return None
    plural = "s" if hidden != 1 else ""
    return f"{hidden} documentation note{plural} not shown (--verbose shows them)"


def to_text(report: Report, old: str, new: str, show: ShowSpan, verbose: bool = False) -> str:
    out = [f"comparing {old} (OLD) with {new} (NEW), direction: {report.direction.value}"]
    for w in report.worlds:
        out.append(f"  world {w.old} -> {w.new}")
    for f in _shown(report, verbose):
        out.append("")
        out.append(f"{_label(f.severity)}[{f.rule}]: {f.message}")
        span = show(f.span)
        if span is not None:
            out.append(render_location(span))
        out.append(f"   = in: {f.path}")
        old_span = show(f.old_span)
        if old_span is not None:
            out.append(f"   = was: {old_span}")
    out.append("")
    out.append(
        f"existing guests: {_verdict(report, Side.GUESTS)}; "
        f"existing hosts: {_verdict(report, Side.HOSTS)}"
    )
    out.append(_tally(report))
    hidden = _hidden_notes(report, verbose)
    if hidden:
        out.append(hidden)
    if report.old_version is not None:
        line = f"version {report.old_version} -> {report.new_version}: "
        if report.required_level is Level.NONE:
            line += "no change, no bump needed"
        else:
            line += f"the changes need a {_BUMP[report.required_level]} bump"
            if report.minimum_next_version:
                line += f": {report.minimum_next_version} or later"
        out.append(line)
        if report.declared_level is not None and report.breaking and report.version_allows:
            n = len(report.breaking)
            out.append(
                f"version {report.new_version} is right: a {_BUMP[report.declared_level]} "
                f"release may make the {n} breaking change{'s' if n != 1 else ''} above"
            )
    out.append("result: " + _result(report))
    return "\n".join(out) + "\n"


def _result(report: Report) -> str:
    """The verdict line: compatible, breaking but allowed by the version, or why not."""
    if not report.errors:
        return "compatible"
    if report.compatible:
        return f"breaking changes, allowed by version {report.new_version}"
    if report.version_errors:
        line = f"INCOMPATIBLE: version {report.new_version} understates the changes"
        if report.minimum_next_version:
            line += f"; the minimum version is {report.minimum_next_version}"
        return line
    if report.strict and report.version_allows:
        return f"INCOMPATIBLE (--strict: breaking changes fail even in {report.new_version})"
    return "INCOMPATIBLE"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def github_annotation(f: Finding, span: Span | None) -> str:
    props = []
    if span is not None:
        props += [f"file={_escape_property(span.file)}", f"line={span.line}", f"col={span.column}"]
    props.append(f"title={_escape_property(f.rule)}")
    message = f.message if span is not None else f"{f.message} [{f.path}]"
    return f"::{_GITHUB_COMMAND[f.severity]} {','.join(props)}::{_escape_data(message)}"


def to_github(report: Report, old: str, new: str, show: ShowSpan, verbose: bool = False) -> str:
    lines = [github_annotation(f, show(f.span)) for f in _shown(report, verbose)]
    summary = f"witgen compat {old} -> {new}: {_result(report)} ({_tally(report)})"
    if report.required_level is not Level.NONE and report.minimum_next_version:
        summary += f"; minimum next version {report.minimum_next_version}"
    lines.append(summary)
    return "\n".join(lines) + "\n"


def render(
    fmt: str, report: Report, old: str, new: str, show: ShowSpan, *, verbose: bool = False
) -> str:
    """The report in `fmt`. JSON always lists every finding; text and GitHub annotations show
    notes only when `verbose`."""
    if fmt == "json":
        return json.dumps(to_json(report, old, new, show), indent=2) + "\n"
    if fmt == "github":
        return to_github(report, old, new, show, verbose)
    return to_text(report, old, new, show, verbose)
