"""
## What it does
Checks that every ConfigMap, Secret and ServiceAccount a pod refers to (env,
envFrom, volumes, projected volumes, imagePullSecrets, serviceAccountName)
exists in the overlay, or is declared external in the configuration
(`external: ["Secret/ai-agents-app"]`). References marked `optional: true`
and the `default` ServiceAccount are not checked. When the referenced
ConfigMap or Secret is in the overlay, a referenced key must exist in it.

## Why is this bad?
A pod that references a missing ConfigMap or Secret never starts
(`CreateContainerConfigError`), and nothing says so at apply time.

## Example
```yaml
envFrom:
  - configMapRef: {name: app-config}   # the overlay generates ai-agents-config
```

## Use instead
Refer to the generated name (kustomize rewrites it to the hashed one), or
declare Secrets created outside the repository as external:
```yaml
rules:
  config-reference:
    options: {external: ["Secret/ai-agents-app"]}
```
"""

from policycheck.rules.base import Problem

ID = "config-reference"
FAMILY = "wiring"
LEVEL = "error"
SUMMARY = "referenced ConfigMaps/Secrets/ServiceAccounts exist or are declared external"
OPTIONS = {"external": []}


def _references(pod):
    spec = pod.spec
    base = pod.path
    account = spec.get("serviceAccountName")
    if account and account != "default":
        yield "ServiceAccount", account, None, f"{base}.serviceAccountName", None
    for i, secret in enumerate(spec.get("imagePullSecrets") or []):
        yield "Secret", (secret or {}).get("name"), None, f"{base}.imagePullSecrets[{i}].name", None
    for i, raw in enumerate(spec.get("volumes") or []):
        vol = raw or {}
        if isinstance(vol.get("configMap"), dict) and not vol["configMap"].get("optional"):
            yield "ConfigMap", vol["configMap"].get("name"), None, f"{base}.volumes[{i}].configMap.name", None
        if isinstance(vol.get("secret"), dict) and not vol["secret"].get("optional"):
            yield "Secret", vol["secret"].get("secretName"), None, f"{base}.volumes[{i}].secret.secretName", None
        for j, src in enumerate(((vol.get("projected") or {}).get("sources")) or []):
            for key, kind in (("configMap", "ConfigMap"), ("secret", "Secret")):
                ref = (src or {}).get(key)
                if isinstance(ref, dict) and not ref.get("optional"):
                    yield kind, ref.get("name"), None, f"{base}.volumes[{i}].projected.sources[{j}].{key}.name", None
    for list_name in ("initContainers", "containers"):
        for ci, c in enumerate(spec.get(list_name) or []):
            cpath, cname = f"{base}.{list_name}[{ci}]", (c or {}).get("name")
            for i, src in enumerate((c or {}).get("envFrom") or []):
                for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    ref = (src or {}).get(key)
                    if isinstance(ref, dict) and not ref.get("optional"):
                        yield kind, ref.get("name"), None, f"{cpath}.envFrom[{i}].{key}.name", cname
            for i, env in enumerate((c or {}).get("env") or []):
                value_from = (env or {}).get("valueFrom") or {}
                for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                    ref = value_from.get(key)
                    if isinstance(ref, dict) and not ref.get("optional"):
                        yield kind, ref.get("name"), ref.get("key"), f"{cpath}.env[{i}].valueFrom.{key}", cname


def check(ctx, options):
    external = set(options["external"])
    for pod in ctx.pods:
        for kind, name, key, field, container in _references(pod):
            if f"{kind}/{name}" in external:
                continue
            target = ctx.find(kind, str(name), pod.obj.namespace)
            if target is None:
                yield Problem(pod.obj, f"{kind} {name} is referenced but neither in the overlay nor declared "
                              "external", f"{field}.name" if field.endswith("Ref") else field, container)
            elif key is not None:
                keys = set(target.doc.get("data") or {}) | set(target.doc.get("stringData") or {})
                keys |= set(target.doc.get("binaryData") or {})
                if key not in keys:
                    yield Problem(pod.obj, f"{kind} {name} has no key {key}", f"{field}.key", container)
