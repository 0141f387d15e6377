"""GitHub Actions workflow commands: annotations on the pull request's files.

    ::error title=policycheck::overlay overlays/x not checked: <why>
    ::error file=F,line=L,title=policycheck RULE::message (Kind/name in overlays a, b)
    ::warning file=F,line=L,title=policycheck RULE::message (Kind/name)
    ::notice file=F,line=L,title=policycheck RULE (exempted)::message (Kind/name; exempted: reason)
    ::notice file=F,line=L,title=policycheck RULE (baseline)::message (Kind/name; baseline: already at REF)
    ::notice title=policycheck::<report note>
    policycheck: 3 error(s), 1 warning(s), 1 exempted in 2 overlay(s)

One line per defect (``Report.defects()``): a problem in a shared base found
in several overlays is one annotation naming them. Errors come first, then
warnings and exempted notices, since GitHub shows only the first few
annotations of each kind per step. The last line, the summary (defects by
level), is not a command. With ``--base REF`` only new findings are errors
and warnings; findings REF had too are notices marked baseline, after them.

Values are escaped as the runner unescapes them: in the message ``%`` ->
``%25``, CR -> ``%0D``, LF -> ``%0A``; in properties also ``:`` -> ``%3A`` and
``,`` -> ``%2C``. Every other control, line-separator or bidi character from
the input is written as a backslash escape (textsafe), so no input can end
the line and start a command of its own.
"""

from __future__ import annotations

from policycheck.report import Defect, Report
from policycheck.report.sarif import clean, level, overlays_phrase, where
from policycheck.textsafe import escape


def escape_data(text: object) -> str:
    value = clean(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return escape(value)


def escape_property(text: object) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: object) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items() if value is not None)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _annotation(defect: Defect, ref: str = "REF") -> str:
    f = defect.first
    context = f"{f.obj.kind}/{f.obj.name}" + (f" [{f.container}]" if f.container else "")
    overlays = defect.overlays
    context += f" in {overlays_phrase(overlays)}" if len(overlays) > 1 else ""
    found = where(f)
    file, line = found if found else (None, None)
    if f.exempted:
        return command("notice", f"{f.message} ({context}; exempted: {f.exemption})", file=file, line=line,
                       title=f"policycheck {f.rule} (exempted)")
    if f.baseline:
        return command("notice", f"{f.message} ({context}; baseline: already at {ref})", file=file, line=line,
                       title=f"policycheck {f.rule} (baseline)")
    return command(level(defect).value, f"{f.message} ({context})", file=file, line=line,
                   title=f"policycheck {f.rule}")


def _order(defect: Defect) -> int:
    return 3 if defect.first.exempted else 2 if defect.first.baseline else 2 - level(defect).rank


def render(report: Report) -> str:
    lines = [command("error", f"overlay {o.path} not checked: {o.error}", title="policycheck") for o in report.errors]
    defects = report.defects()
    ref = report.base["ref"] if report.base else "REF"
    lines += [_annotation(d, ref) for d in sorted(defects, key=_order)]
    lines += [command("notice", note, title="policycheck") for note in report.all_notes()]
    active = [d for d in defects if not d.first.exempted and not d.first.baseline]
    errors = sum(level(d).value == "error" for d in active)
    tail = f", {len(report.errors)} not checked" if report.errors else ""
    exempted = sum(d.first.exempted for d in defects)
    if report.base is None:
        lines.append(f"policycheck: {errors} error(s), {len(active) - errors} warning(s), "
                     f"{exempted} exempted in {len(report.overlays)} overlay(s){tail}")
    else:
        old = sum(d.first.baseline and not d.first.exempted for d in defects)
        lines.append(f"policycheck: {errors} new error(s), {len(active) - errors} new warning(s), {exempted} "
                     f"exempted, {old} baseline (at {escape(ref)}), {len(report.absent)} fixed in "
                     f"{len(report.overlays)} overlay(s){tail}")
    return "\n".join(lines) + "\n"
