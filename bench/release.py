"""A release under load on the twin (issue 11 §2): requests failed during the instance refresh.

    make local && .venv/bin/python bench/release.py [--rate 20] [--broken]

Needs the twin that `make local` runs, read from $LOCALCLOUD_STATE_DIR/twin.json (default
.localcloud) with the local cloud on $LOCALCLOUD_PORT (default 4566). Then (see
tests/app/support/twin_release.py): the group set to 3 instances with 3 healthy targets, a
development sign-in kept, mixed HTTPS traffic through the twin's balancer at --rate req/s
(/health, GET /v1/me, /v1/billing, /v1/items, sign-ins, item creates; TLS verified with the
twin's CA) for a 20 s baseline, then `scripts/release.sh` (`make release`: image, push to
the twin's ECR under a new tag, playbooks/deploy.yml: an instance refresh with the
inventory's preferences — 50 % healthy, warmup, checkpoints — followed to its end).

Prints: requests sent, and during the refresh; failures (no answer or 5xx) with their
statuses; p50/p99 latency during the refresh against the baseline before the release (same
run); the refresh's duration and outcome; whether the sign-in made before the release works.

--broken ships an image whose /health never answers (GUNICORN_BIND=127.0.0.1:5000 baked
in): the refresh must fail on the target group's health checks and roll back, the old
version serving throughout, and `make release` must fail naming the instance and the reason.
Results also go to bench/results/release.json (release-broken.json).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "app")]

from tests.app.support.twin_drill import Twin  # noqa: E402
from tests.app.support.twin_release import run_release  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--baseline", type=float, default=20.0, help="seconds before release")
    parser.add_argument("--broken", action="store_true",
                        help="ship an image whose /health never answers")
    args = parser.parse_args()
    state = Path(os.environ.get("LOCALCLOUD_STATE_DIR", ROOT / ".localcloud"))
    twin_file = state / "twin.json"
    if not twin_file.is_file():
        sys.exit(f"release bench: {twin_file} is missing: it needs the twin (`make local`)")
    port = int(os.environ.get("LOCALCLOUD_PORT", "4566"))
    f = run_release(Twin(twin_file, port), port, broken=args.broken, rate=args.rate,
                    instances=args.instances, baseline=args.baseline)
    b, d = f["before"], f["during_refresh"]
    print(f"== {f['release']} release ({f['image_env']}) under {f['rate']} req/s, "
          f"{f['instances']} instances (healthy after {f['scale_seconds']} s)")
    print(f"  make release: rc {f['release_rc']} in {f['release_seconds']} s")
    print(f"  refresh: {f['refresh_status']} in {f['refresh_seconds']} s "
          f"({f['refresh_reason']})")
    if f["rollback_reason"]:
        print(f"  rolled back: {f['rollback_reason']}")
    print(f"  launch template version: group {f['group_version_before']} -> "
          f"{f['group_version_after']}; instances {f['instance_versions_after']}")
    print(f"  requests: {f['requests']} sent, {d['count']} during the refresh")
    print(f"  failures (no answer or 5xx): {f['failed']} {f['failed_codes']} "
          f"{f['failed_by_kind']}")
    for detail in f["failed_details"]:
        print(f"    {detail}")
    print(f"  baseline before the release: p50 {b['p50_ms']} ms, p99 {b['p99_ms']} ms "
          f"({b['count']} requests, codes {b['codes']})")
    print(f"  during the refresh: p50 {d['p50_ms']} ms, p99 {d['p99_ms']} ms "
          f"(codes {d['codes']}); ratio p50 {_ratio(d['p50_ms'], b['p50_ms'])}, "
          f"p99 {_ratio(d['p99_ms'], b['p99_ms'])}")
    print(f"  sign-in made before the release still works: {f['kept_sign_in_works']} "
          f"(GET /v1/me {f['kept_sign_in_status']})")
    if f["release_rc"] != 0:
        print("  make release said:\n    " + "\n    ".join(
            line for line in f["release_output"].splitlines() if "fatal" in line or "FAILED" in line
            or "msg" in line)[-2000:])
    out = ROOT / "bench" / "results" / ("release-broken.json" if args.broken else "release.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(f, indent=1, default=str))
    ok = f["failed"] == 0 and f["kept_sign_in_works"] and (
        (f["refresh_status"] == "RollbackSuccessful" and f["release_rc"] != 0
         and f["group_version_after"] == f["group_version_before"]) if args.broken
        else (f["refresh_status"] == "Successful" and f["release_rc"] == 0))
    return 0 if ok else 1


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


if __name__ == "__main__":
    sys.exit(main())
