"""
## What it does
Checks that all containers of one overlay that use the same image repository
use the same tag and digest. Each finding points at the line that set that
container's tag: the `images:` entry of the kustomization responsible (the
image name is followed from the file that wrote it through the entries that
rename it), else the `image:` line of the patch or base.

## Why is this bad?
The API and the workers of one release must run the same code; a forgotten
patch that pins one of them to an older tag ships two versions at once.

## Example
```yaml
# api:    image: ai-agents/app:0.2.0
# worker: image: ai-agents/app:0.1.0
```

## Use instead
Set the tag once in the overlay's `images:` list, never in a patch.
"""

from collections import defaultdict

from policycheck.rules._images import parse
from policycheck.rules.base import Problem

ID = "image-tag-consistency"
FAMILY = "images"
LEVEL = "error"
SUMMARY = "images of one repository use one tag/digest within an overlay"


def check(ctx, options):
    by_repo = defaultdict(list)
    for c in ctx.containers():
        image = c.spec.str("image") or ""
        ref = parse(image)
        by_repo[ref.repository].append((c, (ref.tag, ref.digest), image))
    for uses in by_repo.values():
        versions = {version for _, version, _ in uses}
        if len(versions) < 2:
            continue
        seen = sorted({image for _, _, image in uses})
        for c, _, image in uses:
            others = ", ".join(i for i in seen if i != image)
            yield Problem(c.pod.obj, f"container {c.name} uses {image} while the overlay also uses {others}",
                          f"{c.path}.image", c.name)
