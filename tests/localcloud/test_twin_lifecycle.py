"""ECR lifecycle rules on what a registry holds, per AWS's documented examples
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html)."""
from __future__ import annotations

import json

from localcloud.twin.lifecycle import DAY, Held, expired

NOW = 1_800_000_000.0


def _policy(*rules: dict) -> str:
    return json.dumps({"rules": [
        {"rulePriority": i + 1, "action": {"type": "expire"}, **rule}
        for i, rule in enumerate(rules)]})


def test_keep_the_newest_ten_expires_the_two_oldest() -> None:
    images = [Held(f"sha256:{n:02d}", (f"v{n:02d}",), NOW - 100 + n) for n in range(1, 13)]
    policy = _policy({"selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                    "countNumber": 10}})
    assert [i.tags for i in expired(policy, images, NOW)] == [("v02",), ("v01",)]


def test_an_image_selected_by_a_higher_priority_rule_is_not_expired_by_a_lower_one() -> None:
    # AWS's example "filtering on multiple rules": prod images kept by rule 1 (1 of them),
    # rule 2 keeps one image of anything else.
    images = [Held("sha256:a", ("prod1",), NOW - 40), Held("sha256:b", ("prod2",), NOW - 30),
              Held("sha256:c", ("beta1",), NOW - 20), Held("sha256:d", (), NOW - 10)]
    policy = _policy(
        {"selection": {"tagStatus": "tagged", "tagPrefixList": ["prod"],
                       "countType": "imageCountMoreThan", "countNumber": 1}},
        {"selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                       "countNumber": 1}})
    assert [i.digest for i in expired(policy, images, NOW)] == ["sha256:c", "sha256:a"]


def test_untagged_images_older_than_the_days_expire() -> None:
    images = [Held("sha256:old", (), NOW - 15 * DAY), Held("sha256:new", (), NOW - 13 * DAY),
              Held("sha256:tagged", ("v1",), NOW - 30 * DAY)]
    policy = _policy({"selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                    "countUnit": "days", "countNumber": 14}})
    assert [i.digest for i in expired(policy, images, NOW)] == ["sha256:old"]


def test_a_tag_prefix_list_selects_images_with_every_prefix() -> None:
    images = [Held("sha256:both", ("alpha-1", "beta-1"), NOW - 3),
              Held("sha256:one", ("alpha-2",), NOW - 2)]
    policy = _policy({"selection": {"tagStatus": "tagged", "tagPrefixList": ["alpha", "beta"],
                                    "countType": "imageCountMoreThan", "countNumber": 0}})
    assert [i.digest for i in expired(policy, images, NOW)] == ["sha256:both"]
