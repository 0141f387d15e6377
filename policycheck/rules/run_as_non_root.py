"""
## What it does
Checks that every container (init containers too) runs with
`runAsNonRoot: true` and a `runAsUser` other than 0, taking the pod's
securityContext into account where the container sets nothing.
Options `min-uid` and `min-gid` (0, off, by default): a `runAsUser` or
`runAsGroup` below the threshold is a finding too (for example 10000, to
keep clear of the users and groups of the node).

## Why is this bad?
A process running as root inside a container is root on the node the moment
any isolation layer fails, and it can write anywhere in its own filesystem.

## Example
```yaml
containers:
  - name: api
    image: app:1.0
```

## Use instead
```yaml
securityContext:       # pod level
  runAsNonRoot: true
  runAsUser: 1000
```

## References
Pod Security Standards, restricted profile: "Running as Non-root".
"""

from policycheck.k8s import effective
from policycheck.rules.base import Problem

ID = "run-as-non-root"
FAMILY = "security"
LEVEL = "error"
SUMMARY = "runAsNonRoot is true and runAsUser is not 0 (optionally: uid/gid at least a threshold)"
OPTIONS = {"min-uid": 0, "min-gid": 0}
OPTION_TYPES = {"min-uid": range(0, 2**31), "min-gid": range(0, 2**31)}


def check(ctx, options):
    for c in ctx.containers():
        value, _ = effective(c, "runAsNonRoot", "boolean")
        if value is not True:
            yield Problem(c.pod.obj, f"container {c.name} may run as root: runAsNonRoot is not true",
                          f"{c.path}.securityContext.runAsNonRoot", c.name)
        user, where = effective(c, "runAsUser", "integer")
        if user == 0:
            yield Problem(c.pod.obj, f"container {c.name} runs as uid 0", where, c.name)
        elif user is not None and user < options.get("min-uid", 0):
            yield Problem(c.pod.obj, f"container {c.name} runs as uid {user}, below {options['min-uid']}",
                          where, c.name)
        group, where = effective(c, "runAsGroup", "integer")
        if group is not None and group < options.get("min-gid", 0):
            yield Problem(c.pod.obj, f"container {c.name} runs as gid {group}, below {options['min-gid']}",
                          where, c.name)
