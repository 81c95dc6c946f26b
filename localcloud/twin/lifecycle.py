"""ECR lifecycle policies evaluated on what a registry holds.

:func:`expired` answers which images a policy expires, following AWS's rules
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html):
rules are applied in ``rulePriority`` order; an image selected by a rule (expired or
kept) is not considered by any rule of lower priority; ``imageCountMoreThan`` keeps the
newest ``countNumber`` selected images by push time and expires the rest;
``sinceImagePushed`` expires selected images pushed more than ``countNumber`` days ago.
Selections: ``tagStatus`` ``tagged`` (with ``tagPrefixList`` or ``tagPatternList``: only
images with a matching tag for every prefix / pattern of the list), ``untagged``, ``any``.
"""
from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

DAY = 86400.0


@dataclass(frozen=True)
class Held:
    """One image (manifest) of a repository as the registry holds it."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: float  # seconds since the epoch


def _selected(image: Held, selection: dict) -> bool:
    status = selection.get("tagStatus", "any")
    if status == "untagged":
        return not image.tags
    if status == "any":
        return True
    if not image.tags:
        return False
    prefixes: Sequence[str] = selection.get("tagPrefixList") or []
    patterns: Sequence[str] = selection.get("tagPatternList") or []
    if prefixes:
        return all(any(t.startswith(p) for t in image.tags) for p in prefixes)
    if patterns:
        return all(any(fnmatch.fnmatchcase(t, p) for t in image.tags) for p in patterns)
    return True


def expired(policy_text: str, images: Iterable[Held], now: float) -> list[Held]:
    """The images the policy expires, newest first."""
    rules = sorted(json.loads(policy_text).get("rules", []), key=lambda r: r["rulePriority"])
    remaining = sorted(images, key=lambda i: i.pushed_at, reverse=True)
    gone: list[Held] = []
    for rule in rules:
        selection = rule.get("selection", {})
        chosen = [i for i in remaining if _selected(i, selection)]
        remaining = [i for i in remaining if i not in chosen]
        if rule.get("action", {}).get("type", "expire") != "expire":
            continue
        count = int(selection["countNumber"])
        if selection.get("countType") == "imageCountMoreThan":
            gone.extend(chosen[count:])
        elif selection.get("countType") == "sinceImagePushed":
            gone.extend(i for i in chosen if now - i.pushed_at > count * DAY)
    return sorted(gone, key=lambda i: i.pushed_at, reverse=True)
