"""Rules across overlays: the pairs of ``pairs:`` in policycheck.yaml, compared after every
overlay of the run has been checked on its own.

    pairs:
      - weaker: overlays/dev          # the first overlay of the pair
        stronger: overlays/prod       # the second: its findings belong to it
        rules:                        # optional: levels and options of the pair rules, for this pair
          overlay-parity: {options: {only-in-stronger: ["PodDisruptionBudget/*"]}}
      - weaker: apps/*/staging        # `*` is one path segment; the stronger path gets the same text
        stronger: apps/*/prod

Paths are relative to the config file's directory. The rules of scope "pair" in the catalog
(``overlay-parity``, ``prod-not-weaker``) run on configured pairs only, at the levels and with
the options of the stronger overlay's profile, then of the pair's own ``rules:``. Without
``pairs:`` this module is never imported and nothing is kept.

The hook (``Cross``, from policycheck.check): before the per-overlay checks it learns which
overlays of the run are paired (a pair whose other overlay is not in the run is a note); while
they run it keeps, of each paired overlay, only the objects of the kinds its pairs read (not the
ConfigMaps or CRDs); afterwards ``finish`` compares each pair, adds the findings to the stronger
overlay's result and drops each overlay's objects once its last pair is done.

The result cache keeps each overlay's own findings, which never include these. A pair's findings
are stored under a key made of both overlays' cache keys and the pair's configuration: when both
overlays and the pair are answered by the cache, neither is rendered; when either changed, both
are rendered (the unchanged one still takes its own result from the cache) and the pair is
compared afresh.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policycheck import engine
from policycheck.config import Profile, Source, check_mapping, check_value, escape
from policycheck.launch import Task, in_thread, kustomization_file
from policycheck.model import Finding, K8sObject, PolicycheckError, Severity
from policycheck.model import Source as Where
from policycheck.provenance import locate
from policycheck.render import Rendered, overlay_object
from policycheck.report import OverlayResult
from policycheck.rules import REGISTRY, Problem
from policycheck.rules._pairs import SCALED, WORKLOADS, key

PAIR_KEYS = ("weaker", "stronger", "rules")
MAX_PAIRS = 1000
MAX_STARS = 4
MAX_PATH = 1024


def pair_rules() -> list[str]:
    return [r.id for r in REGISTRY.values() if r.scope == "pair"]


# --- configuration ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairSpec:
    """One entry of ``pairs:``: two path patterns and the pair's own rule levels and options."""

    index: int
    weaker: str
    stronger: str
    levels: tuple[tuple[str, str | None], ...] = ()
    options: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()

    def profile(self, base: Profile) -> Profile:
        """``base`` (the stronger overlay's profile) with this pair's levels and options on top."""
        levels = dict(base.levels)
        levels.update({rule: Severity(level) if level else None for rule, level in self.levels})
        options = {rule: dict(values) for rule, values in base.options.items()}
        for rule, values in self.options:
            options.setdefault(rule, {}).update(_thaw(values))
        return Profile(base.name, levels, options)


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _thaw(values: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values}


def _pattern(value: Any, source: Source, path: tuple[Any, ...]) -> str:
    check_value(value, str, source, path)
    text = value.strip().replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    text = text.rstrip("/")
    if not text or len(text) > MAX_PATH:
        raise source.error(path, f"expected an overlay path of 1 to {MAX_PATH} characters")
    if "**" in text or text.count("*") > MAX_STARS or any(c in text for c in "?["):
        raise source.error(path, f"only `*` (one path segment, at most {MAX_STARS}) may stand for a part of the path")
    return text


def from_config(raw: Any, source: Source) -> tuple[PairSpec, ...]:
    """The validated ``pairs:`` list; a one-line PolicycheckError naming the key otherwise."""
    from policycheck.config import _apply_rules  # noqa: PLC0415 - the same validation as a profile's rules

    if not isinstance(raw, list):
        raise source.wrong(("pairs",), "a list of pairs (weaker, stronger, rules)", raw)
    if len(raw) > MAX_PAIRS:
        raise source.error(("pairs",), f"at most {MAX_PAIRS} pairs")
    specs = []
    allowed = set(pair_rules())
    for index, entry in enumerate(raw):
        here = ("pairs", index)
        body = check_mapping(entry, source, here, None, PAIR_KEYS)
        for required in ("weaker", "stronger"):
            if required not in body:
                raise source.error(here, f"missing key: {required}")
        weaker = _pattern(body["weaker"], source, (*here, "weaker"))
        stronger = _pattern(body["stronger"], source, (*here, "stronger"))
        if weaker.count("*") != stronger.count("*"):
            raise source.error(here, "weaker and stronger must have as many `*` (each stands for the same text)")
        if weaker == stronger:
            raise source.error(here, "weaker and stronger name the same overlay")
        rules = body.get("rules")
        profile = Profile("pair")
        if rules is not None:
            for rule_id in check_mapping(rules, source, (*here, "rules"), "rule ids"):
                if rule_id in REGISTRY and rule_id not in allowed:
                    raise source.error((*here, "rules"), f"{escape(rule_id)} is a rule of one overlay; a pair "
                                       f"configures only {', '.join(sorted(allowed))}")
            _apply_rules(profile, rules, source, (*here, "rules"))
        levels = tuple(sorted((r, level.value if level else None) for r, level in profile.levels.items()))
        options = tuple(sorted((r, tuple(sorted((k, _freeze(v)) for k, v in o.items())))
                               for r, o in profile.options.items()))
        specs.append(PairSpec(index, weaker, stronger, levels, options))
    return tuple(specs)


# --- matching the run's overlays ----------------------------------------------------------------------------------


def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile("([^/]*)".join(re.escape(part) for part in pattern.split("*")))


def _fill(pattern: str, groups: tuple[str, ...]) -> str:
    """The pattern with each `*` replaced by the text the other pattern's `*` matched."""
    parts = pattern.split("*")
    return parts[0] + "".join(g + p for g, p in zip(groups, parts[1:], strict=True))


def _spelling(overlay: Path, base: Path) -> str:
    resolved = overlay.resolve()
    try:
        return resolved.relative_to(base).as_posix()
    except ValueError:
        return resolved.as_posix()


def _relative(pattern: str, base: Path) -> str:
    """An absolute pattern as seen from the config's directory, when it is under it."""
    if not pattern.startswith("/"):
        return pattern
    try:
        return Path(pattern).relative_to(base).as_posix()
    except ValueError:
        return pattern


def _config_dir(config_source: str | None) -> Path:
    if config_source and Path(config_source).exists():
        return Path(config_source).resolve().parent
    return Path.cwd().resolve()


def match(specs: tuple[PairSpec, ...], overlays: list[Path], config_source: str | None
          ) -> tuple[list[tuple[PairSpec, int, int]], list[str]]:
    """(pair, weaker index, stronger index) of every configured pair with both overlays in the run,
    and a note for each pair of which only one overlay is in the run."""
    base = _config_dir(config_source)
    spelled = [_spelling(o, base) for o in overlays]
    where: dict[str, int] = {}
    for i, text in enumerate(spelled):
        where.setdefault(text, i)
    found: list[tuple[PairSpec, int, int]] = []
    notes: list[str] = []
    for spec in specs:
        weaker, stronger = _regex(_relative(spec.weaker, base)), _regex(_relative(spec.stronger, base))
        partnered: set[int] = set()
        for i, text in enumerate(spelled):
            hit = weaker.fullmatch(text)
            if hit is None:
                continue
            other = _fill(_relative(spec.stronger, base), hit.groups())
            j = where.get(other)
            if j is None:
                notes.append(f"pair {overlays[i].as_posix()} -> {other}: {other} is not part of this run, "
                             f"the pair is not compared")
                continue
            found.append((spec, i, j))
            partnered.add(j)
        for j, text in enumerate(spelled):
            hit = stronger.fullmatch(text)
            if hit is None or j in partnered:
                continue
            other = _fill(_relative(spec.weaker, base), hit.groups())
            if where.get(other) is None:
                notes.append(f"pair {other} -> {overlays[j].as_posix()}: {other} is not part of this run, "
                             f"the pair is not compared")
    return found, notes


# --- what a pair rule sees -------------------------------------------------------------------------------------


class Side:
    """One overlay of a pair: the objects kept of it, indexed by kind and logical name."""

    def __init__(self, overlay: str, objects: list[K8sObject]) -> None:
        self.overlay = overlay
        self.objects = objects
        self._by_key: dict[tuple[str, str], K8sObject] | None = None
        self._hpas: dict[tuple[Any, Any, str | None], K8sObject] | None = None

    def find(self, kind: str, name: str) -> K8sObject | None:
        if self._by_key is None:
            self._by_key = {}
            for obj in self.objects:
                self._by_key.setdefault(key(obj), obj)
        return self._by_key.get((kind, name))

    def hpa_for(self, obj: K8sObject) -> K8sObject | None:
        """The HorizontalPodAutoscaler of this overlay that scales ``obj``, if any."""
        if self._hpas is None:
            self._hpas = {}
            for hpa in self.objects:
                if hpa.kind == "HorizontalPodAutoscaler":
                    ref = hpa.root.map("spec").map("scaleTargetRef")
                    self._hpas.setdefault((ref.str("kind"), ref.str("name"), hpa.namespace), hpa)
        return self._hpas.get((obj.kind, obj.name, obj.namespace))


class Pair:
    """What a rule of scope "pair" is given: ``weaker`` and ``stronger`` Sides, and where to
    point at an object that one of them lacks."""

    def __init__(self, weaker: Side, stronger: Side) -> None:
        self.weaker = weaker
        self.stronger = stronger
        self.placed: dict[int, Where] = {}  # id of a stand-in object -> the line its finding points at

    def where(self, obj: K8sObject) -> str:
        """file:line of an object (the line that wrote it), for messages."""
        src = locate(obj, None)
        return f"{src.file}:{src.line}" if src else (obj.origin or "source unknown")

    def absent(self, present: K8sObject, lacking: Side) -> K8sObject:
        """A stand-in, in the stronger overlay, for ``present`` where ``lacking`` has no such object:
        its finding points at the lacking overlay's kustomization (its `resources:` line), else,
        when that overlay has no kustomization file, at ``present`` itself."""
        kind, name = key(present)
        meta: dict[str, Any] = {"name": name}  # (no namespace: the overlays may use different ones)
        kfile = kustomization_file(Path(lacking.overlay))
        origin = Path(os.path.relpath(kfile)).as_posix() if kfile else present.origin
        stand_in = K8sObject({"apiVersion": present.api_version, "kind": kind, "metadata": meta},
                             self.stronger.overlay, origin)
        where = Where(origin or "", _resources_line(kfile)) if kfile else locate(present, None)
        if where is not None:
            self.placed[id(stand_in)] = where
        return stand_in


_RESOURCES = re.compile(r"^resources[ \t]*:", re.M)


def _resources_line(kfile: Path) -> int:
    """The line of the top-level `resources:` key of a kustomization (1 when it has none)."""
    try:
        with open(kfile, encoding="utf-8") as fh:
            text = fh.read(1024 * 1024)
    except (OSError, UnicodeDecodeError):
        return 1
    hit = _RESOURCES.search(text)
    return text.count("\n", 0, hit.start()) + 1 if hit else 1


def compare(pair: Pair, profile: Profile, today: dt.date, *, only: frozenset[str] | None = None,
            house_rules: frozenset[str] = frozenset()) -> list[Finding]:
    """The findings of every pair rule on one pair, sourced and exempted like those of one overlay."""
    findings: list[Finding] = []
    for rule_id in pair_rules():
        rule = REGISTRY[rule_id]
        level = profile.level(rule_id)
        if level is None or (only is not None and rule_id not in only):
            continue
        try:
            problems = list(rule.check(pair, profile.rule_options(rule_id)))
        except Exception as exc:  # noqa: BLE001 - a last resort, as in engine.run
            problems = [Problem(overlay_object(pair.stronger.overlay), f"rule {rule_id} failed on the pair "
                                f"{pair.weaker.overlay} -> {pair.stronger.overlay} ({type(exc).__name__}); its "
                                "findings here are incomplete. This is a policycheck bug.", severity=Severity.ERROR)]
            level = Severity.ERROR
        for p in problems:
            severity = p.severity if p.severity is not None and p.severity.rank < level.rank else level
            finding = Finding(rule_id, severity, p.obj, p.message, p.field, p.container)
            finding.source = pair.placed.get(id(p.obj)) or locate(p.obj, p.field)
            findings.append(finding)
    return engine.exempt(findings, house_rules, today)


# --- the hook of policycheck.check ------------------------------------------------------------------------------


@dataclass
class _Planned:
    spec: PairSpec
    weaker: int
    stronger: int
    profile: Profile
    rules: list[str]
    key: str | None = None
    answer: OverlayResult | None = None  # from the cache


@dataclass
class Cross:
    """The pairs of one run (see the module's docstring)."""

    overlays: list[Path]
    settings: Any  # policycheck.check.Settings
    planned: list[_Planned] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kinds: dict[int, set[str]] = field(default_factory=dict)  # overlay index -> the kinds its pairs read
    kept: dict[int, list[K8sObject] | str] = field(default_factory=dict)  # objects, or why there are none

    def __post_init__(self) -> None:
        config = self.settings.config
        select = self.settings.select
        found, self.notes = match(config.extra.get("pairs") or (), self.overlays, config.source)
        seen: set[tuple[int, int]] = set()
        for spec, i, j in found:
            if i == j or (i, j) in seen:  # (two entries naming one pair: the first one's settings)
                continue
            seen.add((i, j))
            try:
                base = config.profile_for(self.overlays[j].as_posix(), self.settings.profile)
            except PolicycheckError:
                continue  # the stronger overlay's own result says what is wrong
            profile = spec.profile(base)
            rules = [r for r in pair_rules() if profile.level(r) is not None and (select is None or r in select)]
            if not rules:
                continue
            self.planned.append(_Planned(spec, i, j, profile, rules))
            wanted = self._kinds(profile, rules)
            for index in (i, j):
                self.kinds.setdefault(index, set()).update(wanted)

    @staticmethod
    def _kinds(profile: Profile, rules: list[str]) -> set[str]:
        kinds: set[str] = set()
        if "overlay-parity" in rules:
            kinds.update(profile.rule_options("overlay-parity")["kinds"])
        if "prod-not-weaker" in rules:
            kinds.update((*WORKLOADS, *SCALED, "HorizontalPodAutoscaler", "Ingress"))
        return kinds

    def paired(self, i: int) -> bool:
        """Overlay i's objects are wanted by a pair (its render must not be stopped yet)."""
        return i in self.kinds

    def use_cache(self, cache: Any, keys: list[str | None]) -> list[int]:
        """Look each pair up in the result cache; the overlays no pair needs a render of any more."""
        for plan in self.planned:
            kw, ks = keys[plan.weaker], keys[plan.stronger]
            if not kw or not ks:
                continue
            text = f"pair\n{kw}\n{ks}\n{plan.spec!r}"
            plan.key = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
            hits = cache.hits
            plan.answer = cache.get(plan.key, self.overlays[plan.stronger].as_posix())
            cache.hits = hits  # (the count is of overlays)
        still = {i for plan in self.planned if plan.answer is None for i in (plan.weaker, plan.stronger)}
        done = [i for i in self.kinds if i not in still]
        for i in done:
            del self.kinds[i]
        return done

    def keep(self, i: int, rendered: Callable[[], Rendered], waits: list[Task], cached: bool = False) -> None:
        """Keep what the pairs need of overlay i's render (its objects of the kinds they read)."""
        wanted = self.kinds.get(i)
        if wanted is None:
            return
        try:
            out = rendered()
        except Exception as exc:  # noqa: BLE001 - the overlay's own result has the failure
            self.kept[i] = "could not be rendered" if cached else "could not be checked"
            del exc
            return
        if cached and out.started is not None and out.started[0] == "started" and out.started[1] is not None:
            waits.append(in_thread(out.started[1], "policycheck-rego"))  # (only reaped: its result is cached)
        self.kept[i] = [o for o in out.objects if o.kind in wanted]

    def finish(self, results: list[OverlayResult], cache: Any = None, base: Any = None) -> list[str]:
        """Compare every pair; its findings join the stronger overlay's result. The notes of the run.
        ``base`` (policycheck.baseref.BaseRenders, with --base REF): the pair is compared at REF
        too, and the findings it had there are baseline."""
        last = {}
        for n, plan in enumerate(self.planned):
            last[plan.weaker] = last[plan.stronger] = n
        for n, plan in enumerate(self.planned):
            target = results[plan.stronger]
            if plan.answer is not None:
                target.findings.extend(plan.answer.findings)
            else:
                self._compare(plan, target, cache, base)
            for i in (plan.weaker, plan.stronger):
                if last.get(i) == n:
                    self.kept.pop(i, None)
        return self.notes

    def _compare(self, plan: _Planned, target: OverlayResult, cache: Any, base: Any) -> None:
        names = [self.overlays[plan.weaker].as_posix(), self.overlays[plan.stronger].as_posix()]
        sides = []
        for i, name in zip((plan.weaker, plan.stronger), names, strict=True):
            kept = self.kept.get(i)
            if not isinstance(kept, list) or target.error:
                why = kept if isinstance(kept, str) else "could not be checked"
                self.notes.append(f"pair {names[0]} -> {names[1]} not compared: {name} {why}")
                if isinstance(kept, str) and kept == "could not be rendered" and not target.error:
                    # Its own result came from the cache, but the pair cannot be compared: that must not pass.
                    stand_in = overlay_object(names[1])
                    failed = Finding(plan.rules[0], Severity.ERROR, stand_in, f"the pair {names[0]} -> {names[1]} "
                                     f"could not be compared: {name} could not be rendered")
                    failed.source = locate(stand_in, None)
                    target.findings.append(failed)
                return
            sides.append(Side(name, kept))
        settings = self.settings
        try:
            findings = compare(Pair(*sides), plan.profile, settings.today, only=settings.select,
                               house_rules=settings.house_rules)
        except Exception as exc:  # noqa: BLE001 - what could not be checked must not pass
            stand_in = overlay_object(names[1])
            findings = [Finding(plan.rules[0], Severity.ERROR, stand_in, f"comparing {names[0]} with {names[1]} "
                                f"failed ({type(exc).__name__}); this is a policycheck bug")]
            findings[0].source = locate(stand_in, None)
        if base is not None and settings.base is not None:
            self._baseline(plan, names, findings, base)
        target.findings.extend(findings)
        if cache is not None and plan.key:
            stored = cache.stored
            cache.put(plan.key, OverlayResult(names[1], plan.profile.name, findings=findings))
            cache.stored = stored

    def _baseline(self, plan: _Planned, names: list[str], findings: list[Finding], base: Any) -> None:
        """Mark the findings the pair also had at --base REF (policycheck.baseline's matching)."""
        sides = []
        for i, name in zip((plan.weaker, plan.stronger), names, strict=True):
            at_ref = base.get(i)
            if at_ref.objects is None:
                self.notes.append(f"pair {names[0]} -> {names[1]}: {name} has no render at {at_ref.ref}; the "
                                  "pair's findings count as new")
                return
            wanted = self.kinds_of(plan)
            sides.append(Side(name, [o for o in at_ref.objects if o.kind in wanted]))
        from policycheck import baseline  # noqa: PLC0415 - only with --base

        settings = self.settings
        before = compare(Pair(*sides), plan.profile, settings.today, only=settings.select,
                         house_rules=settings.house_rules)
        baseline.mark(findings, before)

    def kinds_of(self, plan: _Planned) -> set[str]:
        return self._kinds(plan.profile, plan.rules)
