"""Fault drill `app-kill` (issue 17): one instance's API container killed under load on the
twin (`make local`), with the traffic going through the balancer's HTTPS listener.

Shared by tests/localcloud/test_twin_make_local.py and bench/faults.py.

- :class:`Twin` reads what `make local` wrote (``twin.json``) and talks to the stack as a
  person would: HTTPS to 127.0.0.1:<LOCALCLOUD_ALB_HTTPS_PORT> with SNI and Host the API's
  name, verified with the twin's CA; boto3 against the local cloud for the group and its
  target health.
- :func:`run_app_kill` scales the group to 2 healthy targets, sends the mixed traffic of
  :class:`tests.app.support.drills.Traffic`, kills the API container (``taskapp-backend``)
  inside ONE instance — ``docker kill`` (what an operator or a script does; Docker counts it
  as a manual stop, so the ``unless-stopped`` restart policy does not apply) or ``crash``
  (SIGKILL to the container's process, as the kernel's OOM killer does; the restart policy
  applies) — and watches, every 0.5 s, the target's health, the container, and the group,
  until the group has 2 healthy targets again.
"""
from __future__ import annotations

import json
import secrets
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any

from localcloud.tlsclient import ResolvedHTTPSConnection
from tests.app.support.drills import Traffic, _pct, _stats

APP_CONTAINER = "taskapp-backend"  # roles/app: app_container_name
HOW = ("docker-kill", "crash")


class Twin:
    """The stack `make local` runs, through what it wrote and the local cloud's API."""

    def __init__(self, twin_file: Path, cloud_port: int) -> None:
        self.twin: dict[str, Any] = json.loads(Path(twin_file).read_text())
        self.port = int(self.twin["api_url"].rstrip("/").rpartition(":")[2])
        self.host = self.twin["host_header"]
        self.context = ssl.create_default_context(cafile=self.twin["ca_cert"])
        self.url = self.twin["api_url"]
        import boto3

        kw = {"endpoint_url": f"http://127.0.0.1:{cloud_port}", "region_name": "eu-central-1",
              "aws_access_key_id": "localcloud", "aws_secret_access_key": "localcloud"}
        self.asg, self.elb = boto3.client("autoscaling", **kw), boto3.client("elbv2", **kw)
        self.asg_name = self.twin["asg_name"]

    def request(self, method: str, path: str, body: dict | None = None,
                token: str | None = None, timeout: float = 30) -> tuple[int, dict, float]:
        """One request on its own connection through the balancer: (status, JSON or {},
        seconds); status 0 = no answer (refused, reset, TLS error, timeout)."""
        started = time.monotonic()
        headers = {"Host": self.host, "Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn = ResolvedHTTPSConnection("127.0.0.1", self.port, self.host, self.context, timeout)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            try:
                parsed = json.loads(raw) if raw.startswith(b"{") else {"raw": raw[:200].decode(
                    errors="replace")}
            except ValueError:
                parsed = {"raw": raw[:200].decode(errors="replace")}
            return resp.status, parsed, time.monotonic() - started
        except OSError:
            return 0, {}, time.monotonic() - started
        finally:
            conn.close()

    # ---- the group -------------------------------------------------------------------------
    def group(self) -> dict[str, Any]:
        return self.asg.describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.asg_name])["AutoScalingGroups"][0]

    def health(self, group: dict[str, Any] | None = None) -> dict[str, tuple[str, str]]:
        """instance id -> (target state, reason) in the group's target groups."""
        found = {}
        for arn in (group or self.group())["TargetGroupARNs"]:
            for t in self.elb.describe_target_health(TargetGroupArn=arn)[
                    "TargetHealthDescriptions"]:
                found[t["Target"]["Id"]] = (t["TargetHealth"]["State"],
                                            t["TargetHealth"].get("Reason", ""))
        return found

    def healthy_count(self) -> int:
        return sum(1 for state, _ in self.health().values() if state == "healthy")

    def scale(self, count: int, timeout: float) -> float:
        """Desired capacity ``count`` (MaxSize raised if needed); seconds until ``count``
        targets are healthy."""
        group = self.group()
        started = time.monotonic()
        self.asg.update_auto_scaling_group(AutoScalingGroupName=self.asg_name,
                                           MaxSize=max(count, group["MaxSize"]))
        self.asg.set_desired_capacity(AutoScalingGroupName=self.asg_name, DesiredCapacity=count)
        while self.healthy_count() < count:
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"{count} healthy targets not reached in {timeout:.0f} s: "
                                   f"{self.health()}")
            time.sleep(2)
        return time.monotonic() - started

    def sign_in(self, email: str, within: float = 90.0) -> str:
        deadline = time.monotonic() + within
        while True:
            status, got, _ = self.request("POST", "/v1/auth/dev", {"email": email})
            if status == 200:
                return str(got["access_token"])
            if time.monotonic() > deadline:
                raise RuntimeError(f"sign-in failed: {status} {got}")
            time.sleep(3)  # 429 (20 sign-ins a minute per address) or a 503 from a restart


def _docker(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


def app_container_state(instance_container: str) -> tuple[str, int]:
    """(status, restart count) of the API container inside an instance; ("gone", -1) when
    the instance or the container is not there."""
    got = _docker("exec", instance_container, "docker", "inspect", "-f",
                  "{{.State.Status}} {{.RestartCount}}", APP_CONTAINER)
    if got.returncode != 0:
        return "gone", -1
    status, count = got.stdout.split()
    return status, int(count)


def app_answers(instance_container: str, port: int) -> bool:
    """Whether the API answers ``/health`` on the target port inside the instance (a running
    container is not yet a serving one: gunicorn takes a moment to listen)."""
    got = _docker("exec", instance_container, "curl", "-sf", "-o", "/dev/null", "-m", "1",
                  f"http://127.0.0.1:{port}/health")
    return got.returncode == 0


def kill_app(instance_container: str, how: str) -> None:
    if how == "docker-kill":
        args = ["docker", "kill", APP_CONTAINER]
    elif how == "crash":
        args = ["sh", "-c", f"kill -KILL $(docker inspect -f '{{{{.State.Pid}}}}' {APP_CONTAINER})"]
    else:
        raise ValueError(f"unknown way to kill the app container {how!r} (one of {HOW})")
    got = _docker("exec", instance_container, *args)
    if got.returncode != 0:
        raise RuntimeError(f"killing {APP_CONTAINER} in {instance_container} failed: "
                           f"{got.stderr.strip()}")


def run_app_kill(twin: Twin, *, how: str = "docker-kill", rate: float = 20.0,
                 before: float = 5.0, after: float = 10.0, recover_within: float = 600.0,
                 users: int = 4) -> dict[str, Any]:
    """The drill; returns its figures. Scales the group to 2 first (and leaves it at 2)."""
    if how not in HOW:
        raise ValueError(f"unknown way to kill the app container {how!r} (one of {HOW})")
    scaled_s = twin.scale(2, timeout=900)
    group = twin.group()
    before_ids = {i["InstanceId"] for i in group["Instances"]}
    victim = sorted(i for i, (state, _) in twin.health(group).items()
                    if state == "healthy" and i in before_ids)[0]
    container = f"localcloud-{victim}"
    port = int(twin.elb.describe_target_groups(TargetGroupArns=group["TargetGroupARNs"][:1])[
        "TargetGroups"][0]["Port"])
    tokens = [twin.sign_in(f"app-kill-{i}-{secrets.token_hex(2)}@example.com")
              for i in range(users)]
    traffic = Traffic(twin, tokens, rate).start()  # type: ignore[arg-type]
    time.sleep(before)
    events: dict[str, float] = {}
    seen: list[str] = []
    _, restarts_before = app_container_state(container)
    killed_at = time.monotonic()
    kill_app(container, how)

    def mark(what: str, detail: str = "") -> None:
        if what not in events:
            events[what] = round(time.monotonic() - killed_at, 1)
            seen.append(f"{events[what]:6.1f} s  {what} {detail}".rstrip())

    recovered = None
    while time.monotonic() - killed_at < recover_within:
        group = twin.group()
        health = twin.health(group)
        ids = {i["InstanceId"]: i for i in group["Instances"]}
        state, reason = health.get(victim, ("absent", ""))
        if state != "healthy":
            mark(f"target_{state}", reason)
            mark("target_out")  # the first moment the balancer no longer counts it healthy
        if victim in ids and ids[victim]["HealthStatus"] != "Healthy":
            mark("instance_unhealthy_in_group")
        if victim not in ids:
            mark("instance_left_group")
        status, restarts = app_container_state(container)
        if status == "running" and restarts > restarts_before:
            mark("container_restarted", f"(restart count {restarts})")
            if "app_answering_again" not in events and app_answers(container, port):
                mark("app_answering_again")
        if "target_out" in events and state == "healthy":
            mark("target_healthy_again")
        for iid in set(ids) - before_ids:
            mark(f"new_instance {iid}")
            if health.get(iid, ("",))[0] == "healthy":
                mark(f"new_instance_healthy {iid}")
        # recovered: 2 healthy targets once the balancer took the target out, or once the
        # restarted container answers again (a restart faster than 3 failed checks is never
        # taken out)
        if ("target_out" in events or "app_answering_again" in events) and sum(
                1 for i in ids if health.get(i, ("",))[0] == "healthy") >= 2:
            recovered = time.monotonic()
            mark("two_healthy_targets")
            break
        time.sleep(0.5)
    time.sleep(after)
    traffic.stop()
    status, restarts = app_container_state(container)
    end_ids = {i["InstanceId"] for i in twin.group()["Instances"]}
    samples = traffic.samples
    failed = [s for s in samples if s.status == 0 or s.status >= 500]
    fault_end = recovered or time.monotonic()
    during = [s for s in samples if killed_at <= s.at < fault_end]
    out_at = killed_at + events["target_out"] if "target_out" in events else None
    # from when on nothing should fail: the balancer took the target out, or (a crash the
    # restart policy undid before that) the restarted container answered again
    back_at = (killed_at + events["app_answering_again"]
               if "app_answering_again" in events else None)
    served_at = min((t for t in (out_at, back_at) if t is not None), default=None)
    return {
        "drill": f"app-kill ({how})", "rate": rate, "how": how, "instance": victim,
        "scale_to_2_seconds": round(scaled_s, 1),
        "health": _stats([s for s in samples if s.kind == "health"]),
        "requests": len(samples),
        "during_fault": _stats(during),
        "failed": len(failed),
        "failed_by_kind": {k: sum(1 for s in failed if s.kind == k)
                           for k in sorted({s.kind for s in failed})},
        "failed_codes": _stats(failed)["codes"],
        "failed_before_target_out": sum(1 for s in failed if out_at and s.at < out_at),
        "failed_after_target_out": sum(1 for s in failed if not out_at or s.at >= out_at),
        "failed_after_out_or_back": sum(1 for s in failed
                                        if served_at is None or s.at >= served_at),
        "last_failure_seconds": round(max((s.at for s in failed), default=killed_at) - killed_at,
                                      1),
        "after_recovery": _stats([s for s in samples if s.at >= fault_end]),
        "events": events, "timeline": seen,
        "recovered": recovered is not None,
        "recovery_seconds": round(recovered - killed_at, 1) if recovered else None,
        "container_at_end": {"status": status, "restarts": restarts},
        "instances_replaced": sorted(before_ids - end_ids),
        "instances_new": sorted(end_ids - before_ids),
        "writes": lost_writes(twin, traffic),
        "p99_all_ms": round(_pct([s.seconds for s in samples], 99) * 1000, 1),
    }


def lost_writes(twin: Twin, traffic: Traffic) -> dict[str, int]:
    """Writes answered done that are not there afterwards (want 0): each sign-in answered 200
    reads its own account back (GET /v1/me), each item answered 201 reads back."""
    lost_users = sum(1 for email, token in traffic.signin_tokens
                     if _read_back(twin, "/v1/me", token, email) is False)
    lost_items = sum(1 for token, item in traffic.created
                     if _read_back(twin, f"/v1/items/{item}", token, None) is False)
    return {"users_answered_done": len(traffic.signin_tokens), "users_lost": lost_users,
            "items_answered_done": len(traffic.created), "items_lost": lost_items}


def _read_back(twin: Twin, path: str, token: str, email: str | None) -> bool:
    for _ in range(5):  # a 5xx/no answer here is not a lost write: ask again
        status, body, _ = twin.request("GET", path, token=token)
        if status == 200:
            return email is None or body.get("user", {}).get("email") == email
        if 400 <= status < 500:
            return False
        time.sleep(1)
    raise RuntimeError(f"could not read {path} back: {status} {body}")
