"""`make local` on the twin: how long it takes, what it changes, what the twin holds.

    .venv/bin/python bench/local.py [--fresh] [--instances 3] [--json bench/results/local.json]
    .venv/bin/python bench/local.py --fresh-machine [--json ...]

``--fresh-machine`` times `make local` on a fresh machine, images included, and nothing
else: `make test-fresh`'s clean Debian 12 container (scripts/test-fresh.sh with
FRESH_STEPS=local: debootstrap minbase + what a person has before the README, a clone of
HEAD, its own Docker engine inside with an empty /var/lib/docker), where `make local` sets
up the virtualenv, debootstraps the base image, builds every image the twin needs, the
golden AMI included, and converges the stack until a target is healthy. The shared Docker's
images are neither used nor touched (the container's engine has its own).

Runs with the environment given (LOCALCLOUD_PORT, LOCALCLOUD_ALB_HTTP_PORT, ... as for
`make local`) and measures, in one run:

1. with ``--fresh``: `make localcloud-stop`, then `make local` from an empty local cloud —
   images already built are reused (`images/build.sh` rebuilds only a changed recipe), so
   this is "fresh cloud, images cached"; say so when quoting it;
2. `make local` again (the second run): wall time and each playbook's `changed=` count;
3. the twin's memory with the group's instances (1 after `make local`): the proportional
   set size (PSS, shared pages split between processes) of every process of every container
   the server owns, each container's process tree included — an instance's tree holds its
   systemd, dockerd and the app's containers (their cgroups are not under the instance's:
   `--cgroupns=host`), so cgroup counters would miss them;
4. the group scaled to ``--instances`` (3): from SetDesiredCapacity to each new instance's
   `healthy` target (boot: container, cloud-init, Debian packages, image pull, migration,
   gunicorn, two health checks), and the memory again. The group is scaled back after.

Baseline for the memory: the same PSS sum of the server's own process (the local cloud).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LABEL = "org.autobuy.localcloud"
PHASES: dict[str, dict[str, float]] = {}  # instance id -> boot step -> seconds (scale())
RECAP = re.compile(r"ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)")


def fresh_machine() -> dict[str, Any]:
    """`make local` in test-fresh's clean Debian 12 container: seconds (its own timing)."""
    started = time.monotonic()
    done = subprocess.run(["scripts/test-fresh.sh", "bookworm"], cwd=ROOT, text=True,
                          capture_output=True, check=False,
                          env={**os.environ, "FRESH_STEPS": "local"})
    log = done.stdout + done.stderr
    if done.returncode:
        _failed("make local on a fresh machine (scripts/test-fresh.sh)", log)
    took = re.search(r"make local passed in (\d+) s", log)
    if took is None:
        _failed("reading the time of make local from scripts/test-fresh.sh", log)
    assert took is not None
    return {"fresh_machine_seconds": int(took.group(1)),
            "fresh_machine_wall_seconds": round(time.monotonic() - started, 1),
            "fresh_machine_load": round(_load(), 1)}


def _make(target: str) -> tuple[float, str, int]:
    started = time.monotonic()
    done = subprocess.run(["make", "--no-print-directory", target], cwd=ROOT, text=True,
                          capture_output=True, check=False)
    return time.monotonic() - started, done.stdout + done.stderr, done.returncode


def _failed(what: str, log: str) -> None:
    """Stop the bench with the failing tasks of the make run (the whole log beside it)."""
    saved = ROOT / "bench" / "results" / "local-failed.log"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(log)
    lines = log.splitlines()
    failing = [f"{lines[i - 1]}\n{line}" for i, line in enumerate(lines)
               if line.startswith(("fatal:", "failed:")) or "FAILED!" in line]
    sys.exit(f"bench: {what} failed (whole log: {saved}):\n" + "\n".join(failing[-5:])
             + "\n" + log[-1500:])


def _port() -> int:
    return int(os.environ.get("LOCALCLOUD_PORT", "4566"))


def _twin() -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{_port()}/localcloud/twin", timeout=10) as a:
        return dict(json.load(a))


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _tree_pss(root: int, tree: dict[int, list[int]]) -> int:
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _pss_kib(pid)
        stack.extend(tree.get(pid, []))
    return total


def memory(owner: str) -> dict[str, float]:
    """MiB of PSS per container of the server (process trees), and the server itself."""
    names = subprocess.run(["docker", "ps", "--filter", f"label={LABEL}={owner}",
                            "--format", "{{.Names}}"], capture_output=True, text=True,
                           check=True).stdout.split()
    tree = _children()
    result = {}
    for name in names:
        pid = int(subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}", name],
                                 capture_output=True, text=True, check=True).stdout)
        result[name] = _tree_pss(pid, tree) / 1024
    result["local cloud (server process)"] = _tree_pss(int(owner), tree) / 1024
    return result


def _health(elb: Any, groups: list[str]) -> dict[str, str]:
    found = {}
    for arn in groups:
        for target in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]:
            found[target["Target"]["Id"]] = target["TargetHealth"]["State"]
    return found


def _clients() -> tuple[Any, Any]:
    import boto3

    kw = {"endpoint_url": f"http://127.0.0.1:{_port()}", "region_name": "eu-central-1",
          "aws_access_key_id": "localcloud", "aws_secret_access_key": "localcloud"}
    return boto3.client("autoscaling", **kw), boto3.client("elbv2", **kw)


def scale(asg_name: str, count: int, timeout: float = 900) -> dict[str, float]:
    """Scale the group to ``count``; seconds from the call to each new instance healthy."""
    asg, elb = _clients()
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[asg_name])[
        "AutoScalingGroups"][0]
    before = {i["InstanceId"] for i in group["Instances"]}
    started, wall = time.monotonic(), time.time()
    asg.update_auto_scaling_group(AutoScalingGroupName=asg_name,
                                  MaxSize=max(count, group["MaxSize"]))
    asg.set_desired_capacity(AutoScalingGroupName=asg_name, DesiredCapacity=count)
    healthy_at: dict[str, float] = {}
    while time.monotonic() - started < timeout:
        group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[asg_name])[
            "AutoScalingGroups"][0]
        health = _health(elb, group["TargetGroupARNs"])
        for inst in group["Instances"]:
            iid = inst["InstanceId"]
            if iid not in before and iid not in healthy_at and health.get(iid) == "healthy":
                healthy_at[iid] = time.monotonic() - started
                print(f"bench: {iid} healthy {healthy_at[iid]:.1f} s after SetDesiredCapacity",
                      flush=True)
        if sum(1 for s in health.values() if s == "healthy") >= count:
            for iid, seconds in healthy_at.items():
                phases = boot_phases(iid, wall)
                phases["target healthy (DescribeTargetHealth)"] = round(seconds, 1)
                PHASES[iid] = phases
                print(f"bench: {iid} boot, seconds after SetDesiredCapacity: "
                      + json.dumps(phases), flush=True)
            return healthy_at
        time.sleep(2)
    raise SystemExit(f"bench: {count} healthy targets not reached in {timeout:g} s: {healthy_at}")


def _docker_out(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False,
                          timeout=60).stdout.strip()


def _epoch(stamp: str) -> float | None:
    """Docker's RFC 3339 time (nanoseconds) as seconds since the epoch."""
    from datetime import datetime

    if not stamp or stamp.startswith("0001-"):
        return None
    head, _, frac = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + "+00:00").timestamp() + float(f"0.{frac or 0}")


def boot_phases(instance_id: str, since: float) -> dict[str, float]:
    """Where an instance's boot went: seconds from ``since`` (wall clock of the scale-out
    call) to each step, read from the instance afterwards: its container's start, cloud-init's
    stages (/run/cloud-init/status.json), the instance's own dockerd events (the app image
    pulled, the migration's container, the API started) and the API's first passing health
    check."""
    name = f"localcloud-{instance_id}"
    marks: dict[str, float | None] = {
        "container started": _epoch(_docker_out("inspect", "-f", "{{.State.StartedAt}}", name))}
    try:
        stages = json.loads(_docker_out("exec", name, "cat", "/run/cloud-init/status.json"))["v1"]
    except (ValueError, KeyError):
        stages = {}
    for stage in ("init-local", "init", "modules-config", "modules-final"):
        marks[f"cloud-init {stage} start"] = (stages.get(stage) or {}).get("start")
    marks["cloud-init done (user data ended)"] = (stages.get("modules-final") or {}).get("finished")
    active = _docker_out("exec", name, "systemctl", "show", "-p", "ActiveEnterTimestamp",
                         "--value", "docker.service")
    if active:  # "Tue 2026-12-01 10:56:33 UTC": whole seconds
        from datetime import datetime, timezone

        try:
            marks["dockerd active (whole seconds)"] = datetime.strptime(
                active, "%a %Y-%m-%d %H:%M:%S %Z").replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            pass
    events = _docker_out("exec", name, "docker", "events", "--since", "0", "--until",
                         str(int(time.time())), "--format",
                         "{{.TimeNano}} {{.Type}} {{.Action}} {{.Actor.Attributes.name}}")
    for line in events.splitlines():
        nano, kind, action, *rest = line.split() + [""]
        key = {("image", "pull"): "image pulled", ("container", "start"): f"{rest[0]} started",
               ("container", "die"): f"{rest[0]} exited"}.get((kind, action))
        if key and key not in marks:
            marks[key] = int(nano) / 1e9
    api = _docker_out("exec", name, "docker", "ps", "--filter", "publish=80", "--format",
                      "{{.Names}}")
    if api:
        health = _docker_out("exec", name, "docker", "inspect", "-f", "{{json .State.Health}}", api)
        try:
            passed = [e["End"] for e in json.loads(health)["Log"] if e["ExitCode"] == 0]
        except (ValueError, KeyError, TypeError):
            passed = []
        if passed:
            marks["API health check passed (its own)"] = _epoch(passed[0])
    return {k: round(v - since, 1) for k, v in sorted(marks.items(), key=lambda kv: kv[1] or 0)
            if v}


def _load() -> float:
    return os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fresh", action="store_true",
                        help="stop the local cloud first and time make local from scratch")
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--fresh-machine", action="store_true",
                        help="only: time make local in a clean Debian 12 container, images "
                             "included (scripts/test-fresh.sh)")
    args = parser.parse_args()
    out: dict[str, Any] = {"cores": os.cpu_count()}
    if args.fresh_machine:
        out.update(fresh_machine())
        print(f"bench: make local on a fresh machine (clean Debian 12 container, images "
              f"included): {out['fresh_machine_seconds']} s (load {out['fresh_machine_load']})",
              flush=True)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(out, indent=2) + "\n")
        return
    if args.fresh:
        _make("localcloud-stop")
        seconds, log, rc = _make("local")
        if rc:
            _failed("make local from a stopped local cloud", log)
        out["fresh_seconds"] = round(seconds, 1)
        out["fresh_load"] = round(_load(), 1)
        print(f"bench: make local from a stopped local cloud (images cached): {seconds:.1f} s "
              f"(load {_load():.1f})", flush=True)
    seconds, log, rc = _make("local")
    if rc:
        _failed("make local again", log)
    changed = [int(c) for c, _failures in RECAP.findall(log)]
    out.update(second_seconds=round(seconds, 1), second_changed=changed,
               second_load=round(_load(), 1))
    print(f"bench: make local again: {seconds:.1f} s, changed per playbook {changed} "
          f"(load {_load():.1f})", flush=True)
    twin = _twin()
    owner = twin["network"].removeprefix("localcloud-")
    state = Path(os.environ.get("LOCALCLOUD_STATE_DIR", "").strip() or ROOT / ".localcloud")
    asg_name = json.loads((state / "twin.json").read_text())["asg_name"]
    one = memory(owner)
    out["memory_mib_1"] = {k: round(v, 1) for k, v in one.items()}
    print(f"bench: twin memory, 1 instance: {sum(one.values()):.0f} MiB "
          + json.dumps(out["memory_mib_1"]), flush=True)
    try:
        boots = scale(asg_name, args.instances)
        out["boot_to_healthy_seconds"] = {k: round(v, 1) for k, v in boots.items()}
        out["boot_phases"] = PHASES
        out["scale_load"] = round(_load(), 1)
        many = memory(owner)
        out[f"memory_mib_{args.instances}"] = {k: round(v, 1) for k, v in many.items()}
        print(f"bench: twin memory, {args.instances} instances: {sum(many.values()):.0f} MiB "
              + json.dumps(out[f"memory_mib_{args.instances}"]), flush=True)
    finally:
        _clients()[0].set_desired_capacity(AutoScalingGroupName=asg_name, DesiredCapacity=1)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
