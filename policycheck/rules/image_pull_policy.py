"""
## What it does
Checks that a container whose image is not pinned by digest is pulled with
`imagePullPolicy: Always` (set, or the default of an untagged or `latest`
image). An image pinned by digest (`@sha256:...`) passes with any policy:
the digest names one image, so a cached copy is that image.

## Why is this bad?
With `IfNotPresent` a node keeps running whatever it pulled first under a
tag: a re-pushed tag gives different nodes different code, and an image that
was deleted from the registry for a reason keeps running.

## Example
```yaml
image: ai-agents/app:0.1.0
imagePullPolicy: IfNotPresent
```

## Use instead
```yaml
image: ai-agents/app:0.1.0@sha256:...   # any pull policy
```
or `imagePullPolicy: Always` while the image is referenced by tag only.
"""

from policycheck.rules._images import parse
from policycheck.rules.base import Problem

ID = "image-pull-policy"
FAMILY = "images"
LEVEL = "warning"
SUMMARY = "images not pinned by digest are pulled Always"


def check(ctx, options):
    for c in ctx.containers():
        image = c.spec.str("image")
        if not image:
            continue
        ref = parse(image)
        if ref.digest:
            continue
        policy = c.spec.str("imagePullPolicy")
        if policy is None:
            policy = "Always" if not ref.tag or ref.tag == "latest" else "IfNotPresent"
            field = f"{c.path}.image"
        else:
            field = f"{c.path}.imagePullPolicy"
        if policy != "Always":
            yield Problem(c.pod.obj, f"container {c.name} image {image} is not pinned by digest and is pulled "
                          f"{policy}", field, c.name)
