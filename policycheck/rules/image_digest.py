"""
## What it does
Checks that every container image is pinned by a `sha256` digest. Off in the
`dev` profile, an error in `prod`, a warning otherwise.

## Why is this bad?
A tag can be moved to another image by anyone who can push to the registry;
only a digest names exactly the bytes that were tested.

## Example
```yaml
image: postgres:17-alpine
```

## Use instead
```yaml
image: postgres:17-alpine@sha256:<64 hex digits>
```
Set it with `kustomize edit set image postgres:17-alpine@sha256:...`.
"""

from policycheck.rules._images import parse, valid_digest
from policycheck.rules.base import Problem

ID = "image-digest"
FAMILY = "images"
LEVEL = "warning"
SUMMARY = "image is pinned by digest (profile-controlled, on in prod)"


def check(ctx, options):
    for c in ctx.containers():
        image = c.spec.str("image") or ""
        if not valid_digest(parse(image)):
            yield Problem(c.pod.obj, f"container {c.name} image {image or '(none)'} has no sha256 digest",
                          f"{c.path}.image", c.name)
