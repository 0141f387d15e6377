"""The check pipeline: every overlay on its own, every failure recorded on it.

``check_overlay`` renders one overlay, runs the rules and the Rego stage and
marks exemptions; whatever fails (render, rules, conftest, a bug) becomes
the ``error`` of that overlay's result, never the end of the run.
``check`` does that for every overlay, renders in parallel, and returns the
Report that the reporters format. The CLI only parses flags into Settings.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from policycheck import conftest, engine
from policycheck.config import Config
from policycheck.launch import Kustomize, Renders, Task, in_thread, start_renders
from policycheck.model import Finding, PolicycheckError
from policycheck.render import Rendered
from policycheck.report import OverlayResult, Report

TYPE_CHECKING = False
if TYPE_CHECKING:  # (the cache and --base load only when they are on)
    from policycheck.baseref import BaseRenders, Revision
    from policycheck.cache import Cache
    from policycheck.context import Base

# The rule that compares with the render at --base REF.
COMPARES = "immutable-field"


@dataclass
class Settings:
    """Everything a check needs, from flags and configuration."""

    kustomize: Kustomize
    config: Config
    kube_version: str
    profile: str | None = None
    timeout: float = 60.0
    memory_mib: int = 2048
    allow_remote: bool = False
    rego: conftest.Conftest | None = None
    rego_settings: conftest.Settings = field(default_factory=conftest.Settings)
    house_rules: frozenset[str] = frozenset()
    require_objects: bool = False
    select: frozenset[str] | None = None  # only these rule ids (built-in and house)
    today: dt.date = field(default_factory=dt.date.today)
    # --base REF: findings are matched with the check at REF (it keys the result cache).
    base: Revision | None = None


def compares(select: frozenset[str] | None) -> bool:
    """A rule that needs the render at --base REF is selected."""
    return select is None or COMPARES in select


def _describe(exc: BaseException) -> str:
    """One line for any failure: our own errors as they are, anything else by its type only
    (a message could quote the input)."""
    if isinstance(exc, PolicycheckError):
        return str(exc)
    return f"internal error ({type(exc).__name__}); this is a policycheck bug"


def wants_rego(settings: Settings) -> bool:
    return settings.select is None or bool(settings.select & settings.house_rules)


def rego_job(out: Rendered, settings: Settings, profile: str) -> Callable[[], list[dict]] | None:
    """Start conftest on a render (when the Rego stage is on for it): the function that waits
    for its results, or None."""
    if not (settings.rego and settings.rego_settings.enabled_for(profile) and wants_rego(settings)):
        return None
    left = settings.timeout - out.elapsed
    return conftest.prepare(settings.rego, settings.rego_settings, out, left)


def _after_parse(settings: Settings) -> Callable[[Rendered], Callable[[], list[dict]] | None]:
    """What a render thread starts once it has parsed an overlay."""
    def start(out: Rendered) -> Callable[[], list[dict]] | None:
        profile = settings.config.profile_for(out.overlay, settings.profile)
        return rego_job(out, settings, profile.name)
    return start


def check_overlay(overlay: Path, settings: Settings, rendered: Callable[[], Rendered],
                  waits: list[Task] | None = None, base: Callable[[], Base] | None = None) -> OverlayResult:
    """Check one overlay; ``rendered`` returns its render (or raises); conftest runs in a
    thread of its own (added to ``waits``) while the built-in rules run here. ``base``
    returns its render at --base REF (never raises), waited for only when a rule compares."""
    name = overlay.as_posix()
    try:
        profile = settings.config.profile_for(name, settings.profile)
    except PolicycheckError as exc:
        return OverlayResult(name, settings.profile or "?", error=str(exc))
    result = OverlayResult(name, profile.name)
    try:
        out = rendered()
    except Exception as exc:  # noqa: BLE001 - isolated: one overlay's failure is its own
        result.error = _describe(exc)
        return result
    result.objects = len(out.objects)
    # The rest of the overlay's time budget starts now, not while it waited for earlier overlays.
    deadline = time.monotonic() + settings.timeout - out.elapsed
    if not out.objects:
        if settings.require_objects:
            result.error = f"{name}: the render yields no objects (--require-objects)"
            return result
        result.notes.append(f"{name} renders no objects")
    try:
        rego_run: Task | None = None
        if out.started is None:  # (the render thread did not start it)
            job = rego_job(out, settings, profile.name)
        elif out.started[0] == "failed":
            raise out.started[1]
        else:
            job = out.started[1]
        if job is not None:
            rego_run = in_thread(job, "policycheck-rego")  # conftest runs beside the built-in rules
            if waits is not None:
                waits.append(rego_run)
        elif settings.rego and wants_rego(settings):
            result.notes.append(f"Rego stage off for {name} (profile {profile.name})")
        at_base = None
        if base is not None and compares(settings.select) and profile.level(COMPARES) is not None:
            at_base = base()
            if at_base.objects is None and at_base.error is None and settings.base is None:
                result.notes.append(f"{name} does not exist at {at_base.ref}: no render to compare with, "
                                    f"{COMPARES} has nothing to check")
        ran: dict[str, list] = {}
        findings = engine.run(out, profile, settings.kube_version, settings.today, only=settings.select,
                              house_rules=settings.house_rules, deadline=deadline, timeout=settings.timeout, ran=ran,
                              base=at_base)
        result.ran = [(rule, o.kind, o.namespace, o.name) for rule, objects in ran.items() for o in objects]
        result.rego_ran = rego_run is not None
        if rego_run is not None:
            house = conftest.to_findings(rego_run.result(), out)
            if settings.select is not None:
                house = [f for f in house if f.rule in settings.select]
            findings.extend(engine.exempt(house, settings.house_rules, settings.today))
    except Exception as exc:  # noqa: BLE001 - isolated, as above
        result.error = out.secrets.scrub(_describe(exc))
        return result
    result.findings = findings
    if base is not None and settings.base is not None:  # --base REF: new findings only
        from policycheck import baseline  # noqa: PLC0415

        baseline.compare(result, at_base or base(), settings, profile)
    return result


def _cache_key(cache: Cache, overlay: Path) -> str | None:
    """The overlay's cache key; None when it is not cached (or its walk fails: that is no failure
    of the check, the render will say what is wrong)."""
    try:
        return cache.key(overlay)
    except Exception:  # noqa: BLE001 - the cache is an optimisation, never a reason to fail
        return None


def check(overlays: list[Path], settings: Settings, *, notes: list[str] | None = None,
          renders: Renders | None = None, cache: Cache | None = None, base: BaseRenders | None = None) -> Report:
    """Check every overlay (renders in parallel); a failure stays with its overlay.

    With a ``cache``, an overlay whose inputs and settings are unchanged takes its stored
    result and its render is stopped; every other result checked without error is stored.
    ``base``: the overlays' renders at --base REF (started by the caller, in the same order).
    """
    results: list[OverlayResult] = []
    renders = renders or start_renders(overlays, settings.kustomize, timeout=settings.timeout,
                                       memory_mib=settings.memory_mib, allow_remote=settings.allow_remote)
    futures = renders.futures
    renders.after_parse = _after_parse(settings)
    keys: list[str | None] = [None] * len(overlays)
    cached: dict[int, OverlayResult] = {}
    cross = None
    if settings.config.extra.get("pairs"):  # rules across overlays (only for pairs in policycheck.yaml)
        from policycheck.crossrules import Cross  # noqa: PLC0415

        cross = Cross(overlays, settings)
    if cache is not None:
        for i, overlay in enumerate(overlays):
            keys[i] = _cache_key(cache, overlay)
            hit = cache.get(keys[i], overlay.as_posix()) if keys[i] else None
            if hit is not None:
                cached[i] = hit
                if cross is None or not cross.paired(i):  # (a pair may still need its renders)
                    renders.cancel(i)
                    if base is not None:
                        base.cancel(i)
        for i in cross.use_cache(cache, keys) if cross is not None else ():
            if i in cached:
                renders.cancel(i)
                if base is not None:
                    base.cancel(i)
    renders.more_workers()  # (with the cache on, only one render ran until it had answered)
    if base is not None:
        base.more_workers()
    first = next((futures[i] for i in range(len(overlays)) if i not in cached), None)
    if first is not None and settings.kube_version:
        from policycheck import schema  # noqa: PLC0415

        schema.prewarm(settings.kube_version, first.done)
    waits: list[Task] = []
    try:
        for i, (overlay, future) in enumerate(zip(overlays, futures, strict=True)):
            if i in cached:
                results.append(cached[i])
                if cross is not None:
                    cross.keep(i, future.result, waits, cached=True)
                continue
            at_base = (lambda i=i: base.get(i)) if base is not None else None
            result = check_overlay(overlay, settings, future.result, waits, at_base)
            if cache is not None and keys[i]:
                cache.put(keys[i], result)
            results.append(result)
            if cross is not None:
                cross.keep(i, future.result, waits)
        if cross is not None:  # after every overlay: the pairs, with the rendered objects they kept
            notes = [*(notes or []), *cross.finish(results, cache, base)]
    finally:
        renders.shutdown()
        if base is not None:
            base.shutdown()
        for task in waits:  # a conftest left running by a failed check still cleans up after itself
            try:
                task.result(timeout=settings.timeout)
            except Exception:  # noqa: BLE001, S110 - its overlay already has its error
                pass
    findings: list[Finding] = [f for r in results for f in r.findings]
    return Report(
        tool={"name": "policycheck", "kustomize": settings.kustomize.description,
              "kube_version": settings.kube_version, "conftest": settings.rego.version if settings.rego else None},
        overlays=results,
        findings=findings,
        notes=list(notes or []),
    )
