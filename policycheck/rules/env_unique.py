"""
## What it does
Checks that no container (init and ephemeral ones too) names the same
environment variable twice in its `env` list.

## Why is this bad?
The API server accepts the duplicate and the last entry silently wins: an
overlay patch that "sets" a variable may change nothing, and a reader of the
manifest sees a value the process never gets.

## Example
```yaml
env:
  - {name: LOG_LEVEL, value: info}
  - {name: LOG_LEVEL, value: debug}
```

## Use instead
One entry per name; change a value with a patch that replaces the entry.
"""

from policycheck.rules.base import Problem

ID = "env-unique"
FAMILY = "wiring"
LEVEL = "error"
SUMMARY = "no duplicate env var names in a container"


def check(ctx, options):
    for c in ctx.containers():
        first: dict[str, int] = {}
        for index, env in enumerate(c.spec.maps("env")):
            name = env.str("name")
            if name is None:
                continue
            if name in first:
                yield Problem(c.pod.obj, f"container {c.name} sets env {name} again (first at env[{first[name]}]); "
                              "the last one wins", f"{env.path}.name", c.name)
            else:
                first[name] = index
