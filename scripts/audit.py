#!/usr/bin/env python3
"""Security audit: prowler against the stack that site.yml builds on a private local cloud.

1. starts a local cloud on a free port (localcloud.launch) and records the objects the
   local cloud holds before anything of ours exists (BUILT_INS below);
2. converges site.yml on it;
3. runs prowler (its own virtualenv, see mk/security.mk) for the services the stack uses,
   against the local cloud's endpoint;
4. prints the failed checks on our resources by severity, leaving out those on the
   local cloud's built-in objects; exits 1 on any critical or high, 2 when the audit
   itself could not run.

    .venv/bin/python scripts/audit.py --prowler .cache/prowler-venv/bin/prowler [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "playbooks"))
sys.path.insert(0, str(ROOT))  # localcloud, which provision_helpers starts

from provision_helpers import REGION, client, private_cloud, run_playbook  # noqa: E402

# The prowler services of what site.yml creates (cloudwatch covers CloudWatch Logs too;
# cloudtrail and backup: the account-level controls the stack is expected to have).
SERVICES = ("acm", "autoscaling", "backup", "cloudtrail", "cloudwatch", "dynamodb", "ec2",
            "ecr", "elbv2", "iam", "kms", "rds", "route53", "secretsmanager", "sns", "sqs", "vpc")
SEVERITIES = ("critical", "high", "medium", "low", "informational")
BLOCKING = ("critical", "high")

# The local cloud's built-in objects: what exists before site.yml runs. Findings on them
# say nothing about the stack. Each entry: service, describe call, result key, id field.
BUILT_INS: tuple[tuple[str, str, dict[str, Any], str, str], ...] = (
    # moto's default VPC of the region, with its subnets, ACL, security group, routes.
    ("ec2", "describe_vpcs", {}, "Vpcs", "VpcId"),
    ("ec2", "describe_subnets", {}, "Subnets", "SubnetId"),
    ("ec2", "describe_network_acls", {}, "NetworkAcls", "NetworkAclId"),
    ("ec2", "describe_security_groups", {}, "SecurityGroups", "GroupId"),
    ("ec2", "describe_route_tables", {}, "RouteTables", "RouteTableId"),
    ("ec2", "describe_internet_gateways", {}, "InternetGateways", "InternetGatewayId"),
    # moto's preloaded public AMIs and the unencrypted snapshots behind them (~1300).
    ("ec2", "describe_images", {}, "Images", "ImageId"),
    ("ec2", "describe_snapshots", {}, "Snapshots", "SnapshotId"),
    ("ec2", "describe_volumes", {}, "Volumes", "VolumeId"),
)


def built_in_ids(url: str) -> set[str]:
    """Ids of every object the fresh local cloud holds (see BUILT_INS)."""
    ids: set[str] = set()
    for service, call, kwargs, key, field in BUILT_INS:
        for item in getattr(client(service, url), call)(**kwargs)[key]:
            ids.add(item[field])
    return ids


def is_built_in(finding: dict[str, Any], ids: set[str]) -> bool:
    """True when the finding's resource is one of the local cloud's built-in objects."""
    for resource in finding.get("resources", []):
        uid = str(resource.get("uid", ""))
        name = str(resource.get("name", ""))
        if name in ids or uid.rsplit("/", 1)[-1] in ids:
            return True
    return False


def prowler_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="localcloud",
               AWS_SECRET_ACCESS_KEY="localcloud", AWS_DEFAULT_REGION=REGION)
    return env


class AuditError(RuntimeError):
    """The audit could not run (exit 2, not a finding)."""


def run_prowler(prowler: str, url: str, out: Path) -> list[dict[str, Any]]:
    """prowler's findings (OCSF JSON) for SERVICES against the local cloud at URL."""
    cmd = [prowler, "aws", "--region", REGION, "--services", *SERVICES,
           "--output-formats", "json-ocsf", "--output-directory", str(out),
           "--output-filename", "audit", "--no-banner", "--no-color", "--ignore-exit-code-3"]
    proc = subprocess.run(cmd, env=prowler_env(url), capture_output=True, text=True, check=False)
    report = out / "audit.ocsf.json"
    if proc.returncode != 0 or not report.exists():
        raise AuditError(f"prowler failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(report.read_text())


def failures(findings: list[dict[str, Any]], ids: set[str]) -> tuple[list[dict[str, Any]], int]:
    """The FAIL findings on our resources, and how many were on built-in objects."""
    failed = [f for f in findings if f.get("status_code") == "FAIL"]
    ours = [f for f in failed if not is_built_in(f, ids)]
    return ours, len(failed) - len(ours)


def summary(ours: list[dict[str, Any]]) -> dict[str, Any]:
    counts = Counter(f["severity"].lower() for f in ours)
    rows = sorted(
        ((f["severity"].lower(), f["metadata"]["event_code"],
          (f.get("resources") or [{}])[0].get("name", ""), f.get("status_detail", ""))
         for f in ours),
        key=lambda row: (SEVERITIES.index(row[0]) if row[0] in SEVERITIES else 9, row[1], row[2]),
    )
    return {"counts": {s: counts.get(s, 0) for s in SEVERITIES},
            "failures": [dict(zip(("severity", "check", "resource", "detail"), r)) for r in rows]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prowler", required=True, help="the prowler executable")
    parser.add_argument("--json", type=Path, help="also write the counts and failures here")
    parser.add_argument("--show", choices=SEVERITIES, default="medium",
                        help="print failures down to this severity (counts always cover all)")
    args = parser.parse_args()
    if not Path(args.prowler).is_file():
        print(f"prowler not found at {args.prowler} (make audit installs it)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="audit-") as tmp, \
            private_cloud(Path(tmp) / "localcloud.log") as url:
        ids = built_in_ids(url)
        start = time.monotonic()
        run = run_playbook("site.yml", url)
        if run.returncode != 0:
            print(run.output[-4000:], file=sys.stderr)
            print("site.yml failed on the local cloud; nothing audited", file=sys.stderr)
            return 2
        print(f"site.yml converged in {run.seconds:.0f} s; prowler runs ({', '.join(SERVICES)})")
        try:
            findings = run_prowler(args.prowler, url, Path(tmp) / "prowler")
        except AuditError as exc:
            print(exc, file=sys.stderr)
            return 2
        ours, skipped = failures(findings, ids)
        result = summary(ours)
        result["built_in_failures_left_out"] = skipped
        result["seconds"] = round(time.monotonic() - start)
    shown = SEVERITIES[: SEVERITIES.index(args.show) + 1]
    for row in result["failures"]:
        if row["severity"] in shown:
            print(f"{row['severity'].upper():8} {row['check']:55} {row['resource']:30} {row['detail'][:100]}")
    counts = result["counts"]
    print("FAIL on our resources: " + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES)
          + f" ({skipped} on the local cloud's built-in objects left out; {result['seconds']} s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if any(counts[s] for s in BLOCKING) else 0


if __name__ == "__main__":
    sys.exit(main())
