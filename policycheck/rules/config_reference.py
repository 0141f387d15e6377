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
OPTION_TYPES = {"external": [str]}  # "Kind/name"


def _ref(node, key, kind, name_key="name"):
    """A (kind, name, key, field) reference from an object reference node, unless optional."""
    ref = node.map(key)
    if not node.has(key) or ref.bool("optional") is True:
        return None
    return kind, ref.str(name_key), ref.path


def _references(pod):
    spec = pod.spec
    account = spec.str("serviceAccountName")
    if account and account != "default":
        yield "ServiceAccount", account, None, f"{spec.path}.serviceAccountName", None
    for secret in spec.maps("imagePullSecrets"):
        yield "Secret", secret.str("name"), None, f"{secret.path}.name", None
    for vol in spec.maps("volumes"):
        for key, kind, name_key in (("configMap", "ConfigMap", "name"), ("secret", "Secret", "secretName")):
            ref = _ref(vol, key, kind, name_key)
            if ref:
                yield ref[0], ref[1], None, f"{ref[2]}.{name_key}", None
        for src in vol.map("projected").maps("sources"):
            for key, kind in (("configMap", "ConfigMap"), ("secret", "Secret")):
                ref = _ref(src, key, kind)
                if ref:
                    yield ref[0], ref[1], None, f"{ref[2]}.name", None
    for list_name in ("initContainers", "containers"):
        for c in spec.maps(list_name):
            cname = c.str("name")
            for src in c.maps("envFrom"):
                for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    ref = _ref(src, key, kind)
                    if ref:
                        yield ref[0], ref[1], None, f"{ref[2]}.name", cname
            for env in c.maps("env"):
                value_from = env.map("valueFrom")
                for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                    ref = _ref(value_from, key, kind)
                    if ref:
                        yield ref[0], ref[1], value_from.map(key).str("key"), ref[2], cname


def check(ctx, options):
    external = set(options["external"])
    for pod in ctx.pods:
        for kind, name, key, field, container in _references(pod):
            if name is None or f"{kind}/{name}" in external:
                continue
            target = ctx.find(kind, name, pod.obj.namespace)
            if target is None:
                yield Problem(pod.obj, f"{kind} {name} is referenced but neither in the overlay nor declared "
                              "external", f"{field}.name" if field.endswith("Ref") else field, container)
            elif key is not None:
                root = target.root
                keys = set(root.map("data").keys()) | set(root.map("stringData").keys())
                keys |= set(root.map("binaryData").keys())
                if key not in keys:
                    yield Problem(pod.obj, f"{kind} {name} has no key {key}", f"{field}.key", container)
