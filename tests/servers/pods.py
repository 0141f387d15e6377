"""One container of a rendered overlay, read the way the kubelet reads it, for running its real
server binary on this machine.

    c = container("dev", "StatefulSet", "postgresql", "postgresql")
    c.argv, c.env, c.probes["readiness"], c.resources, c.run_as_user
    mounts = c.materialise(workdir, owner=(uid, gid))   # volumes as host directories
    mounts.remap("/var/lib/postgresql/data/pgdata")   # -> the host path inside that volume

What is resolved as the kubelet does:

- ``env``: ``envFrom`` first (ConfigMaps and Secrets, in order, with ``prefix``; a later source wins),
  then ``env`` entries in order (a later entry wins). A plain ``value`` expands ``$(NAME)`` with the
  variables defined before it (``$$`` is a literal ``$``; an unknown reference stays as written);
  ``valueFrom`` values are never expanded. ``secretKeyRef``/``configMapKeyRef`` read the rendered
  objects (Secret ``data`` is base64, ``stringData`` is plain and wins), else the ``external`` Secrets
  the caller passes (prod's Secrets are created outside git); a missing object or key raises
  :class:`Unresolvable` unless the reference is ``optional``. ``resourceFieldRef`` divides by
  ``divisor`` and rounds up (cpu in millicores, the rest in bytes); an unset request falls back to the
  limit as API defaulting does, an unset limit (the node's allocatable) raises. ``fieldRef`` knows
  ``metadata.name``, ``metadata.namespace``, ``metadata.uid``, ``metadata.labels['k']``,
  ``metadata.annotations['k']``, ``spec.serviceAccountName``, ``spec.nodeName`` and the pod/host IPs
  (127.0.0.1 here: the server runs on this machine).
- ``argv``: ``command`` + ``args`` with ``$(NAME)`` expanded from the final ``env``. Without
  ``command`` the image's entrypoint runs, which a manifest cannot show: ``argv`` is then ``args`` only
  and ``uses_image_entrypoint`` is true.
- probes: ``exec`` command lists, ``tcpSocket``/``httpGet``/``grpc`` ports with named ports resolved
  against the container's ``ports``.
- ``run_as_user``/``run_as_group``/``fs_group``: the container's securityContext over the pod's.
- volumes: see :meth:`Container.materialise`.
"""

from __future__ import annotations

import base64
import functools
import math
import os
import re
import subprocess
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Pod")
LOCAL_IP = "127.0.0.1"


class Unresolvable(Exception):
    """The kubelet could not start this container (CreateContainerConfigError and kin)."""


# --- rendering -----------------------------------------------------------------------------------

@functools.cache
def _render_text(overlay: str) -> str:
    from policycheck.render import find_kustomize

    kustomize = find_kustomize()
    done = subprocess.run([*kustomize.argv, str(ROOT / "overlays" / overlay)], capture_output=True, text=True,
                          timeout=120, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"kustomize build overlays/{overlay} failed: {done.stderr.strip()}")
    return done.stdout


def rendered(overlay: str) -> list[dict[str, Any]]:
    """The objects of ``overlays/<overlay>`` as ``kubectl apply -k`` sends them (fresh copies; the
    render itself runs once per overlay and process)."""
    return [d for d in yaml.safe_load_all(_render_text(overlay)) if d]


# --- $(VAR) expansion ----------------------------------------------------------------------------

def expand(text: str, variables: Mapping[str, str]) -> str:
    """Kubernetes' ``$(NAME)`` expansion: ``$$`` gives ``$``, a known ``$(NAME)`` its value, and
    anything else (an unknown name, an unclosed ``$(``, a lone ``$``) stays as written."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$" or i + 1 == len(text):
            out.append(char)
            i += 1
            continue
        following = text[i + 1]
        if following == "$":
            out.append("$")
            i += 2
            continue
        if following == "(":
            close = text.find(")", i + 2)
            if close != -1:
                name = text[i + 2:close]
                out.append(variables[name] if name and name in variables else text[i:close + 1])
                i = close + 1
                continue
        out.append("$")
        i += 1
    return "".join(out)


# --- quantities ----------------------------------------------------------------------------------

_SUFFIXES = {
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
    "P": Decimal("1e15"), "E": Decimal("1e18"),
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$")


def quantity(value: Any) -> Decimal:
    """A Kubernetes resource quantity ("500m", "512Mi", "1e3", 2) as an exact number."""
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise Unresolvable(f"not a resource quantity: {value!r}")
    number, exponent, suffix = match.groups()
    try:
        base = Decimal(number)
        return base * Decimal(f"1{exponent}") if exponent else base * _SUFFIXES[suffix or ""]
    except InvalidOperation as exc:
        raise Unresolvable(f"not a resource quantity: {value!r}") from exc


def resource_field(resources: Mapping[str, Any], resource: str, divisor: Any = None) -> str:
    """The value of a ``resourceFieldRef`` as the kubelet computes it (always rounded up)."""
    section, _, name = resource.partition(".")
    if section not in ("limits", "requests") or not name:
        raise Unresolvable(f"resourceFieldRef: unknown resource {resource!r}")
    limits = resources.get("limits") or {}
    requests = resources.get("requests") or {}
    if section == "limits":
        if name not in limits:
            raise Unresolvable(f"resourceFieldRef {resource}: no limit set, the kubelet would use the "
                               "node's allocatable, which a test cannot know")
        amount = quantity(limits[name])
    else:
        # API defaulting copies an unset request from the limit; neither set is 0.
        raw = requests.get(name, limits.get(name))
        amount = quantity(raw) if raw is not None else Decimal(0)
    div = quantity(divisor if divisor not in (None, "", 0, "0") else 1)
    if div <= 0:
        raise Unresolvable(f"resourceFieldRef {resource}: divisor must be positive")
    if name == "cpu":
        # Both sides in whole millicores, each rounded up, as resource.Quantity.MilliValue does.
        return str(math.ceil(Decimal(math.ceil(amount * 1000)) / Decimal(math.ceil(div * 1000))))
    return str(math.ceil(Decimal(math.ceil(amount)) / Decimal(math.ceil(div))))


# --- the container -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    """One probe: ``handler`` is exec, tcpSocket, httpGet or grpc. ``command`` (exec) is the rendered
    list; ``port`` is a number (named ports resolved), ``host`` the rendered host or None."""

    handler: str
    command: list[str] | None = None
    port: int | None = None
    host: str | None = None
    path: str | None = None
    scheme: str | None = None
    timeout_seconds: int = 1
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Mounts:
    """The container's mounts as host directories (or files, for a ``subPath`` onto a file).

    ``paths`` maps each in-container mount path to its host path. :meth:`remap` rewrites the mount
    paths inside a string: a mount path is replaced where it starts the string or follows ``=``,
    ``:``, whitespace or a quote, and ends at ``/``, the end, whitespace or a quote, so
    ``--pwfile=/run/secrets/x`` and ``dir /data`` are rewritten and ``/database`` is not taken for
    ``/data``. The longest mount path wins, and a replaced part is never rewritten again.
    """

    root: Path
    paths: dict[str, Path]
    volumes: dict[str, Path]

    def __getitem__(self, mount_path: str) -> Path:
        return self.paths[mount_path]

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        if not self.paths:
            return None
        keys = sorted((p.rstrip("/") or "/" for p in self.paths), key=len, reverse=True)
        alternatives = "|".join(re.escape(k) for k in keys)
        return re.compile(f"(?:^|(?<=[=:\\s\"']))({alternatives})(?=/|$|[\\s\"'])")

    def remap(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None:
            return text
        lookup = {k.rstrip("/") or "/": str(v) for k, v in self.paths.items()}
        return pattern.sub(lambda m: lookup[m.group(1)], text)

    def remap_argv(self, argv: Iterable[str]) -> list[str]:
        return [self.remap(a) for a in argv]

    def remap_env(self, env: Mapping[str, str]) -> dict[str, str]:
        return {k: self.remap(v) for k, v in env.items()}


@dataclass
class Container:
    """A container of a rendered workload with everything resolved (see the module docstring)."""

    overlay: str
    kind: str
    workload: str
    namespace: str
    pod_name: str
    name: str
    image: str
    spec: dict[str, Any] = field(repr=False)
    pod_spec: dict[str, Any] = field(repr=False)
    claim_templates: list[dict[str, Any]] = field(repr=False)
    pod_meta: dict[str, Any] = field(repr=False)
    objects: list[dict[str, Any]] = field(repr=False)
    external: Mapping[str, Mapping[str, str]] = field(repr=False)
    env: dict[str, str] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)
    uses_image_entrypoint: bool = False
    ports: dict[str, int] = field(default_factory=dict)
    probes: dict[str, Probe] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    security_context: dict[str, Any] = field(default_factory=dict)

    @property
    def run_as_user(self) -> int | None:
        return self.security_context.get("runAsUser")

    @property
    def run_as_group(self) -> int | None:
        return self.security_context.get("runAsGroup")

    @property
    def fs_group(self) -> int | None:
        return (self.pod_spec.get("securityContext") or {}).get("fsGroup")

    @property
    def volume_mounts(self) -> list[dict[str, Any]]:
        return list(self.spec.get("volumeMounts") or [])

    # -- objects the pod refers to --

    def object_data(self, kind: str, name: str, optional: bool) -> dict[str, str] | None:
        """The decoded data of a ConfigMap or Secret in the pod's namespace, or of an ``external``
        Secret; None when it is missing and ``optional``."""
        for obj in self.objects:
            meta = obj.get("metadata") or {}
            if obj.get("kind") == kind and meta.get("name") == name and \
                    meta.get("namespace", self.namespace) == self.namespace:
                if kind == "Secret":
                    data = {k: base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()}
                    data.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
                else:
                    data = {k: str(v) for k, v in (obj.get("data") or {}).items()}
                    data.update({k: base64.b64decode(v).decode() for k, v in (obj.get("binaryData") or {}).items()})
                return data
        if kind == "Secret" and name in self.external:
            return dict(self.external[name])
        if optional:
            return None
        raise Unresolvable(f"{self.overlay}: {kind} {self.namespace}/{name} is neither rendered nor given as "
                           "external")

    def key_ref(self, kind: str, ref: Mapping[str, Any]) -> str | None:
        optional = bool(ref.get("optional"))
        data = self.object_data(kind, ref["name"], optional)
        if data is None:
            return None
        if ref["key"] not in data:
            if optional:
                return None
            raise Unresolvable(f"{self.overlay}: {kind} {ref['name']} has no key {ref['key']!r}")
        return data[ref["key"]]

    def field_ref(self, path: str) -> str:
        meta = self.pod_meta
        simple = {
            "metadata.name": self.pod_name,
            "metadata.namespace": self.namespace,
            "metadata.uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"pod:{self.namespace}/{self.pod_name}")),
            "spec.serviceAccountName": self.pod_spec.get("serviceAccountName", "default"),
            "spec.nodeName": "localhost",
            "status.podIP": LOCAL_IP, "status.podIPs": LOCAL_IP,
            "status.hostIP": LOCAL_IP, "status.hostIPs": LOCAL_IP,
        }
        if path in simple:
            return simple[path]
        match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
        if match:
            return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
        raise Unresolvable(f"fieldRef {path!r} is not supported here")

    # -- volumes --

    def materialise(self, root: Path, owner: tuple[int, int] | None = None) -> Mounts:
        """Create the container's volumes under ``root`` and return where each mount path went.

        configMap and secret volumes (also inside ``projected``) become files, honouring ``items``
        (key, path, mode), ``defaultMode`` (0644 when unset) and ``optional``; emptyDir,
        persistentVolumeClaim and the StatefulSet's claim templates become empty directories. A mount
        with ``subPath`` (or ``subPathExpr``, expanded with ``env``) maps to that path inside its
        volume, created as a directory when the volume has nothing there, as the kubelet does.
        Everything created is chowned to ``owner`` (uid, gid): the host user the process will run as,
        who stands in for the pod's runAsUser/fsGroup.
        """
        volumes = {v["name"]: v for v in self.pod_spec.get("volumes") or []}
        claims = {c["metadata"]["name"] for c in self.claim_templates}
        made: dict[str, Path] = {}
        paths: dict[str, Path] = {}
        root.mkdir(parents=True, exist_ok=True)
        for mount in self.volume_mounts:
            name = mount["name"]
            if name not in made:
                target = root / "volumes" / name
                if name in volumes:
                    self._fill(volumes[name], target)
                elif name in claims:
                    target.mkdir(parents=True)
                else:
                    raise Unresolvable(f"volumeMount {name!r} names no volume or claim template")
                made[name] = target
            host = made[name]
            sub = mount.get("subPath") or (expand(mount["subPathExpr"], self.env) if mount.get("subPathExpr") else "")
            if sub:
                if sub.startswith("/") or ".." in Path(sub).parts:
                    raise Unresolvable(f"subPath {sub!r} must be a relative path inside the volume")
                host = host / sub
                if not host.exists():
                    host.mkdir(parents=True)
            paths[mount["mountPath"]] = host
        if owner is not None:
            for top in made.values():
                _chown_tree(top, *owner)
        return Mounts(root, paths, made)

    def _fill(self, volume: Mapping[str, Any], target: Path) -> None:
        if "emptyDir" in volume or "persistentVolumeClaim" in volume or "ephemeral" in volume:
            target.mkdir(parents=True)
            return
        target.mkdir(parents=True)
        for key, kind in (("configMap", "ConfigMap"), ("secret", "Secret")):
            if key in volume:
                self._project(volume[key], kind, target, volume[key].get("defaultMode", 0o644))
                return
        if "projected" in volume:
            projected = volume["projected"]
            for source in projected.get("sources") or []:
                if "configMap" in source or "secret" in source:
                    kind = "ConfigMap" if "configMap" in source else "Secret"
                    self._project(source.get("configMap") or source.get("secret"), kind, target,
                                  projected.get("defaultMode", 0o644))
                else:
                    raise Unresolvable(f"projected source {sorted(source)} is not supported here")
            return
        raise Unresolvable(f"volume {volume.get('name')!r}: {sorted(set(volume) - {'name'})} is not supported here")

    def _project(self, source: Mapping[str, Any], kind: str, target: Path, default_mode: int) -> None:
        name = source.get("name") if kind == "ConfigMap" else source.get("secretName", source.get("name"))
        data = self.object_data(kind, name, bool(source.get("optional")))
        if data is None:
            return
        items = source.get("items")
        if items:
            chosen = []
            for item in items:
                if item["key"] not in data:
                    if source.get("optional"):
                        continue
                    raise Unresolvable(f"{kind} {name} has no key {item['key']!r} (items)")
                chosen.append((item["key"], item["path"], item.get("mode", default_mode)))
        else:
            chosen = [(key, key, default_mode) for key in data]
        for key, rel, mode in chosen:
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(data[key])
            path.chmod(mode)


def _chown_tree(top: Path, uid: int, gid: int) -> None:
    if os.geteuid() != 0 and (uid, gid) == (os.geteuid(), os.getegid()):
        return
    for dirpath, dirnames, filenames in os.walk(top):
        os.chown(dirpath, uid, gid)
        for entry in (*dirnames, *filenames):
            os.chown(os.path.join(dirpath, entry), uid, gid, follow_symlinks=False)


def _effective_security_context(pod_spec: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """The pod's securityContext fields that a container inherits, overridden by the container's."""
    pod = pod_spec.get("securityContext") or {}
    inherited = ("runAsUser", "runAsGroup", "runAsNonRoot", "seLinuxOptions", "seccompProfile",
                 "appArmorProfile", "windowsOptions")
    merged = {k: pod[k] for k in inherited if k in pod}
    merged.update(spec.get("securityContext") or {})
    return merged


def _pod_template(obj: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    if obj["kind"] == "Pod":
        return obj.get("metadata") or {}, obj["spec"]
    template = obj["spec"]["template"]
    return template.get("metadata") or {}, template["spec"]


def find_workload(objects: Iterable[Mapping[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o.get("kind") == kind and (o.get("metadata") or {}).get("name") == name]
    if len(matches) != 1:
        raise LookupError(f"expected one {kind}/{name} in the render, found {len(matches)}")
    return dict(matches[0])


def container(overlay: str, kind: str, workload: str, name: str, *,
              external: Mapping[str, Mapping[str, str]] | None = None,
              pod_name: str | None = None, init: bool = False) -> Container:
    """The container ``name`` of ``kind``/``workload`` in the render of ``overlays/<overlay>``.

    ``external`` maps Secret name -> key -> value for Secrets the overlay expects to exist without
    rendering them. ``pod_name`` is the pod's ``metadata.name`` (default ``<workload>-0``, the
    StatefulSet's first pod). ``init`` looks among the init containers instead.
    """
    return from_objects(rendered(overlay), kind, workload, name, overlay=overlay, external=external,
                        pod_name=pod_name, init=init)


def from_objects(objects: list[dict[str, Any]], kind: str, workload: str, name: str, *, overlay: str = "",
                 external: Mapping[str, Mapping[str, str]] | None = None,
                 pod_name: str | None = None, init: bool = False) -> Container:
    """:func:`container` over objects already at hand (a render, or objects a test wrote)."""
    if kind not in WORKLOAD_KINDS:
        raise ValueError(f"not a workload kind: {kind}")
    obj = find_workload(objects, kind, workload)
    pod_meta, pod_spec = _pod_template(obj)
    listed = pod_spec.get("initContainers" if init else "containers") or []
    specs = [c for c in listed if c.get("name") == name]
    if len(specs) != 1:
        raise LookupError(f"{kind}/{workload} has no {'init ' if init else ''}container {name!r} "
                          f"(has {[c.get('name') for c in listed]})")
    spec = specs[0]
    c = Container(
        overlay=overlay, kind=kind, workload=workload,
        namespace=(obj.get("metadata") or {}).get("namespace", "default"),
        pod_name=pod_name or f"{workload}-0", name=name, image=spec.get("image", ""),
        spec=spec, pod_spec=pod_spec, pod_meta=pod_meta,
        claim_templates=list((obj.get("spec") or {}).get("volumeClaimTemplates") or []) if kind == "StatefulSet" else [],
        objects=objects, external=dict(external or {}),
    )
    c.resources = dict(spec.get("resources") or {})
    c.security_context = _effective_security_context(pod_spec, spec)
    c.ports = {p["name"]: int(p["containerPort"]) for p in spec.get("ports") or [] if p.get("name")}
    c.env = _resolve_env(c)
    command, args = list(spec.get("command") or []), list(spec.get("args") or [])
    c.uses_image_entrypoint = not command
    c.argv = [expand(a, c.env) for a in (*command, *args)]
    for key, label in (("readinessProbe", "readiness"), ("livenessProbe", "liveness"), ("startupProbe", "startup")):
        if spec.get(key):
            c.probes[label] = _probe(spec[key], c)
    return c


def _resolve_env(c: Container) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in c.spec.get("envFrom") or []:
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            ref, kind = source["configMapRef"], "ConfigMap"
        elif "secretRef" in source:
            ref, kind = source["secretRef"], "Secret"
        else:
            raise Unresolvable(f"envFrom source {sorted(source)} is not supported")
        data = c.object_data(kind, ref["name"], bool(ref.get("optional")))
        for key, value in (data or {}).items():
            env[prefix + key] = value
    for var in c.spec.get("env") or []:
        name = var["name"]
        if "valueFrom" not in var:
            env[name] = expand(str(var.get("value", "")), env)
            continue
        source = var["valueFrom"]
        if "secretKeyRef" in source:
            value = c.key_ref("Secret", source["secretKeyRef"])
        elif "configMapKeyRef" in source:
            value = c.key_ref("ConfigMap", source["configMapKeyRef"])
        elif "fieldRef" in source:
            value = c.field_ref(source["fieldRef"]["fieldPath"])
        elif "resourceFieldRef" in source:
            ref = source["resourceFieldRef"]
            if ref.get("containerName") not in (None, "", c.name):
                raise Unresolvable("resourceFieldRef of another container is not supported here")
            value = resource_field(c.resources, ref["resource"], ref.get("divisor"))
        else:
            raise Unresolvable(f"env {name}: valueFrom {sorted(source)} is not supported")
        if value is not None:
            env[name] = value
    return env


def _probe(raw: Mapping[str, Any], c: Container) -> Probe:
    timeout = int(raw.get("timeoutSeconds", 1))
    if "exec" in raw:
        # The kubelet expands an exec probe's command with the container's env entries alone: a literal
        # value as written, a valueFrom entry as "" (no Secret or downward API value reaches a probe's
        # argv), and $$ as $.
        static = {e["name"]: "" if "valueFrom" in e else str(e.get("value", ""))
                  for e in c.spec.get("env") or [] if isinstance(e, Mapping) and isinstance(e.get("name"), str)}
        command = [expand(str(word), static) for word in raw["exec"].get("command") or []]
        return Probe("exec", command=command, timeout_seconds=timeout, raw=dict(raw))
    for handler in ("tcpSocket", "httpGet", "grpc"):
        if handler in raw:
            body = raw[handler]
            port = body.get("port")
            if isinstance(port, str) and not port.isdigit():
                if port not in c.ports:
                    raise Unresolvable(f"probe port {port!r} names no port of container {c.name}")
                port = c.ports[port]
            return Probe(handler, port=int(port), host=body.get("host"), path=body.get("path"),
                         scheme=body.get("scheme"), timeout_seconds=timeout, raw=dict(raw))
    raise Unresolvable(f"probe without a handler: {sorted(raw)}")
