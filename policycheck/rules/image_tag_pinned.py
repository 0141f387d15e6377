"""
## What it does
Checks that every container image names an explicit tag other than `latest`,
or a digest.

## Why is this bad?
An untagged or `latest` image changes under the same name: two nodes may run
different code, and a rollback pulls the broken image again.

## Example
```yaml
image: ai-agents/app
```

## Use instead
```yaml
image: ai-agents/app:0.1.0
```
Set it through the overlay's `images:` list.
"""

from policycheck.rules._images import parse
from policycheck.rules.base import Problem

ID = "image-tag-pinned"
FAMILY = "images"
LEVEL = "error"
SUMMARY = "image has an explicit tag other than latest, or a digest"


def check(ctx, options):
    for c in ctx.containers():
        image = c.spec.str("image") or ""
        ref = parse(image)
        if ref.digest:
            continue
        if not ref.tag or ref.tag == "latest":
            yield Problem(c.pod.obj, f"container {c.name} image {image or '(none)'} is not pinned to a tag",
                          f"{c.path}.image", c.name)
