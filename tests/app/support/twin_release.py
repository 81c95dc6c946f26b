"""Releases under load on the twin (issue 11 §2): a good one rolls with no failed request, a
broken one is caught by the target group's health checks and rolled back.

Shared by tests/localcloud/test_twin_make_local.py and bench/release.py.

:func:`run_release` (on :class:`tests.app.support.twin_drill.Twin`, the stack `make local`
runs): the group set to ``instances`` healthy targets, one development sign-in kept, the
mixed traffic of :class:`tests.app.support.drills.Traffic` through the balancer's HTTPS
listener (TLS verified with the twin's CA) for a baseline, then `scripts/release.sh` — what
`make release` runs: `make image`, the image pushed to the twin's ECR under a new tag
(playbooks/release.yml), playbooks/deploy.yml (launch template version + instance refresh
with the inventory's preferences, followed by the asg_refresh module to its end) — while the
traffic goes on, and a few seconds more after it. Figures: requests and failures (no answer
or 5xx) during the refresh (its StartTime to EndTime as DescribeInstanceRefreshes reports
them) against the baseline before the release, the refresh's duration and outcome, and
whether the sign-in made before the release still works. :func:`run_in_place_release` is the
same release with ``autobuy_deploy_strategy=in_place``; both run in the one frame of
:func:`release_under_traffic` (scale, sign in, traffic around the release, stop).

Every release gets a tag of its own through ``RELEASE_IMAGE_ENV`` (settings baked into the
image, scripts/release.sh): a marker ``RELEASE_MARK=<time>`` for a good release, and
``GUNICORN_BIND=127.0.0.1:5000`` for the broken one — gunicorn then listens on the
container's loopback only, so ``/health`` never answers through the published port (the
image's own Docker HEALTHCHECK, inside the container, still passes).
"""
from __future__ import annotations

import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.app.support.drills import Sample, Traffic, _stats
from tests.app.support.twin_drill import Twin

ROOT = Path(__file__).resolve().parents[3]
BROKEN_ENV = "GUNICORN_BIND=127.0.0.1:5000"


def release(twin: Twin, cloud_port: int, image_env: str, timeout: float = 1800,
            args: str = "") -> subprocess.CompletedProcess[str]:
    """`scripts/release.sh` (`make release`) against the twin on ``cloud_port``; ``args``:
    more ansible-playbook arguments (RELEASE_ARGS)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"RELEASE_ARGS": f"-e aws_endpoint_url=http://127.0.0.1:{cloud_port} {args}".strip(),
                "RELEASE_REGISTRY": twin.twin["registry"], "RELEASE_IMAGE_ENV": image_env,
                # a tree with uncommitted changes gets a -dirty- tag rather than a refusal
                "RELEASE_ALLOW_DIRTY": "1", "LOCALCLOUD_PORT": str(cloud_port)})
    return subprocess.run([str(ROOT / "scripts" / "release.sh")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _group_version(group: dict[str, Any]) -> str:
    return str(group["LaunchTemplate"]["Version"])


def _versions(twin: Twin) -> tuple[str, dict[str, str]]:
    group = twin.group()
    return (_group_version(group),
            {i["InstanceId"]: str(i.get("LaunchTemplate", {}).get("Version"))
             for i in group["Instances"]})


def _latest_refresh(twin: Twin) -> dict[str, Any] | None:
    found = twin.asg.describe_instance_refreshes(AutoScalingGroupName=twin.asg_name)
    refreshes = sorted(found["InstanceRefreshes"], key=lambda r: r["StartTime"])
    return refreshes[-1] if refreshes else None


@dataclass
class UnderTraffic:
    """What :func:`release_under_traffic` saw: the group once scaled, the sign-in kept across
    the release, the traffic (stopped), the release's process and its timing."""

    scale_seconds: float
    group_before: dict[str, Any]
    kept_email: str
    kept: str
    traffic: Traffic
    shipped: subprocess.CompletedProcess[str]
    released_at: float  # time.monotonic() when the release started
    released_s: float
    wall: float  # time.time() - time.monotonic(): monotonic -> epoch seconds

    @property
    def output(self) -> str:
        return self.shipped.stdout + self.shipped.stderr

    @property
    def failed(self) -> list[Sample]:
        """Requests that got no answer or a 5xx."""
        return [s for s in self.traffic.samples if s.status == 0 or s.status >= 500]


def release_under_traffic(twin: Twin, cloud_port: int, image_env: str, *, instances: int,
                          rate: float, users: int, baseline: float, after: float,
                          email_prefix: str, args: str = "") -> UnderTraffic:
    """The frame of every release drill: the group scaled to ``instances`` healthy targets,
    ``users`` development sign-ins (the first one kept to check after the release), their mixed
    traffic at ``rate`` for ``baseline`` seconds, :func:`release` with ``image_env`` and
    ``args`` while it goes on, ``after`` seconds more, then the traffic stopped."""
    scaled_s = twin.scale(instances, timeout=900)
    group_before = twin.group()
    kept_email = f"{email_prefix}-{secrets.token_hex(3)}@example.com"
    kept = twin.sign_in(kept_email)
    tokens = [kept] + [twin.sign_in(f"{email_prefix}-{i}-{secrets.token_hex(2)}@example.com")
                       for i in range(users - 1)]
    wall = time.time() - time.monotonic()
    traffic = Traffic(twin, tokens, rate).start()  # type: ignore[arg-type]
    time.sleep(baseline)
    released_at = time.monotonic()
    shipped = release(twin, cloud_port, image_env, args=args)
    released_s = time.monotonic() - released_at
    time.sleep(after)
    traffic.stop()
    return UnderTraffic(scaled_s, group_before, kept_email, kept, traffic, shipped, released_at,
                        released_s, wall)


def run_release(twin: Twin, cloud_port: int, *, broken: bool = False, rate: float = 20.0,
                instances: int = 3, baseline: float = 20.0, after: float = 10.0,
                users: int = 4) -> dict[str, Any]:
    """A release under traffic; returns its figures (see the module docstring)."""
    before_refresh = _latest_refresh(twin)  # scaling the group starts no refresh
    image_env = BROKEN_ENV if broken else f"RELEASE_MARK={time.strftime('%Y%m%dT%H%M%S')}"
    run = release_under_traffic(twin, cloud_port, image_env, instances=instances, rate=rate,
                                users=users, baseline=baseline, after=after,
                                email_prefix="release")
    shipped, wall, released_at = run.shipped, run.wall, run.released_at
    refresh = _latest_refresh(twin)
    if refresh is None or (before_refresh is not None
                           and refresh["InstanceRefreshId"] == before_refresh["InstanceRefreshId"]):
        raise RuntimeError(f"the release started no instance refresh (rc {shipped.returncode}):"
                           f"\n{run.output[-3000:]}")
    start = _monotonic(refresh["StartTime"], wall)
    end = _monotonic(refresh["EndTime"], wall) if refresh.get("EndTime") else time.monotonic()
    samples = run.traffic.samples
    during = [s for s in samples if start <= s.at <= end]
    before = [s for s in samples if s.at < released_at]
    failed = run.failed
    version_after, instance_versions = _versions(twin)
    status, me, _ = twin.request("GET", "/v1/me", token=run.kept)
    return {
        "release": "broken" if broken else "good", "image_env": image_env, "rate": rate,
        "instances": instances, "scale_seconds": round(run.scale_seconds, 1),
        "release_rc": shipped.returncode, "release_seconds": round(run.released_s, 1),
        "release_output": run.output,
        "refresh_status": refresh["Status"], "refresh_reason": refresh.get("StatusReason", ""),
        "rollback_reason": refresh.get("RollbackDetails", {}).get("RollbackReason", ""),
        "refresh_seconds": round(end - start, 1),
        "requests": len(samples), "before": _stats(before), "during_refresh": _stats(during),
        "failed": len(failed), "failed_codes": _stats(failed)["codes"],
        "failed_by_kind": {k: sum(1 for s in failed if s.kind == k)
                           for k in sorted({s.kind for s in failed})},
        "failed_at_seconds": [round(s.at - start, 2) for s in failed][:50],
        # what a failed request got: the API's own 503s name the dependency that was slow
        "failed_details": [f"{s.kind} {s.status} {s.detail}".strip() for s in failed][:20],
        "group_version_before": _group_version(run.group_before),
        "group_version_after": version_after, "instance_versions_after": instance_versions,
        "kept_sign_in_works": status == 200 and me.get("user", {}).get("email") == run.kept_email,
        "kept_sign_in_status": status,
    }


def _monotonic(at: datetime, wall: float) -> float:
    return at.timestamp() - wall


def _serving_images(twin: Twin, instance_ids: list[str]) -> dict[str, str]:
    """The image each instance's API container runs (docker inside its container)."""
    images = {}
    for instance_id in instance_ids:
        done = subprocess.run(["docker", "exec", f"localcloud-{instance_id}", "docker", "inspect",
                               "--format", "{{.Config.Image}}", "taskapp-backend"],
                              capture_output=True, text=True, timeout=60, check=False)
        images[instance_id] = done.stdout.strip() if done.returncode == 0 else done.stderr.strip()
    return images


def _env_setting(instance_id: str, name: str) -> str:
    """One setting of the API's env file on the instance (names that hold no secret only)."""
    done = subprocess.run(["docker", "exec", f"localcloud-{instance_id}", "grep", "-m1", f"^{name}=",
                           "/etc/autobuy/taskapp-backend.env"],
                          capture_output=True, text=True, timeout=60, check=False)
    return done.stdout.strip().partition("=")[2]


def run_in_place_release(twin: Twin, cloud_port: int, *, rate: float = 10.0,
                         instances: int = 2) -> dict[str, Any]:
    """`make release` with ``autobuy_deploy_strategy=in_place`` under traffic: the roles
    docker and app update the running instances one batch at a time (each out of the target
    group while its serving container is swapped). Figures: the release's outcome, the
    instances before and after (the same ones: nothing replaced), the image each serves
    after, the twin's settings in their env files, and the requests that failed."""
    run = release_under_traffic(
        twin, cloud_port, f"RELEASE_MARK=in-place-{time.strftime('%Y%m%dT%H%M%S')}",
        instances=instances, rate=rate, users=1, baseline=5, after=5, email_prefix="in-place",
        args="-e autobuy_deploy_strategy=in_place")
    output = run.output
    tag = next((line.split("taskapp-backend:", 1)[1].split()[0] for line in output.splitlines()
                if line.startswith("release: taskapp-backend:")), "")
    after = sorted(i["InstanceId"] for i in twin.group()["Instances"])
    failed = run.failed
    status, me, _ = twin.request("GET", "/v1/me", token=run.kept)
    return {
        "release_rc": run.shipped.returncode, "release_output": output, "tag": tag,
        "release_seconds": round(run.released_s, 1), "rate": rate,
        "instances_before": sorted(i["InstanceId"] for i in run.group_before["Instances"]),
        "instances_after": after,
        "group_version_before": _group_version(run.group_before),
        "group_version_after": _versions(twin)[0],
        "serving_images": _serving_images(twin, after),
        "settings": {i: {name: _env_setting(i, name) for name in
                         ("AUTOBUY_ENV", "AUTOBUY_DEV_SIGNIN", "AUTOBUY_STRIPE_API_URL")}
                     for i in after},
        "requests": len(run.traffic.samples), "failed": len(failed),
        "failed_details": [f"{s.kind} {s.status} {s.detail}".strip() for s in failed][:20],
        "kept_sign_in_works": status == 200 and me.get("user", {}).get("email") == run.kept_email,
    }
