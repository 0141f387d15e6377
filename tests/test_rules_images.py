"""Rules of the images family: fires/passes fixtures and family-specific cases."""

from __future__ import annotations

from tests.rulekit import family_tests

FAMILY = "images"
RULES, test_fires, test_passes = family_tests(FAMILY)


def test_image_reference_parsing() -> None:
    from policycheck.rules._images import parse

    digest = "sha256:" + "0" * 64
    assert parse("registry.local:5000/team/app:1.2@" + digest) == parse("registry.local:5000/team/app:1.2@" + digest)
    ref = parse("registry.local:5000/team/app:1.2@" + digest)
    assert (ref.repository, ref.tag, ref.digest) == ("registry.local:5000/team/app", "1.2", digest)
    assert parse("registry.local:5000/team/app").tag is None
    assert parse("app").repository == "app"
