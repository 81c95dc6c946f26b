"""How long a local cloud instance takes to boot its user data, against the bare container.

Baseline: ``docker run`` of the AMI image with the same options and a NoCloud seed, from
the run to ``cloud-init status`` ``done``. Candidate: a local cloud with
``LOCALCLOUD_INSTANCES=containers``, from ``RunInstances`` to ``done`` (the same user
data). Rounds alternate baseline and candidate; prints each time, the medians, the ratio
candidate / baseline (what the local cloud adds) and the memory of one booted instance.

    .venv/bin/python bench/instance_boot.py [--rounds N]      (needs Docker and `make images`)
"""
from __future__ import annotations

import argparse
import fnmatch
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from localcloud import launch, settings
from localcloud.ext.fidelity.ec2_containers import SEED_PATH, SYSTEMD_OPTIONS

USER_DATA = "#!/bin/bash\necho booted > /root/bench\n"


def _docker(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


def _wait_done(name: str, started: float) -> float:
    while _docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip() != "true":
        if time.monotonic() - started > 120:
            raise SystemExit(f"bench: container {name} did not start")
        time.sleep(0.1)
    status = _docker("exec", name, "cloud-init", "status", "--wait").stdout
    if "status: done" not in status:
        raise SystemExit(f"bench: cloud-init in {name} ended {status.strip()!r}")
    return time.monotonic() - started


def baseline(image: str, index: int) -> float:
    name = f"autobuy-bench-boot-{os.getpid()}-{index}"
    with tempfile.TemporaryDirectory() as seed:
        Path(seed, "meta-data").write_text(f"instance-id: i-bench{index}\nlocal-hostname: bench\n")
        Path(seed, "user-data").write_text(USER_DATA)
        os.chmod(seed, 0o755)
        started = time.monotonic()
        ran = _docker("run", "-d", "--name", name, *SYSTEMD_OPTIONS,
                      "-v", f"{seed}:{SEED_PATH}:ro", image, "/lib/systemd/systemd")
        try:
            if ran.returncode != 0:
                raise SystemExit(f"bench: docker run failed: {ran.stderr.strip()}")
            return _wait_done(name, started)
        finally:
            _docker("rm", "-f", "-v", name)


def _memory(name: str) -> str:
    """The container's memory cgroup usage (page cache included). `docker stats` reads 0
    for these containers (host cgroup namespace, cgroup v1), so read the cgroup."""
    cid = _docker("inspect", "-f", "{{.Id}}", name).stdout.strip()
    for path in (f"/sys/fs/cgroup/memory/docker/{cid}/memory.usage_in_bytes",
                 f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/memory.current"):
        try:
            return f"{int(Path(path).read_text()) / 2**20:.0f} MiB"
        except (OSError, ValueError):
            continue
    return "n/a"


def candidate(ec2, ami: str) -> tuple[float, str]:
    started = time.monotonic()
    instance = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, UserData=USER_DATA)[
        "Instances"][0]["InstanceId"]
    name = f"localcloud-{instance}"
    seconds = _wait_done(name, started)
    memory = _memory(name)
    ec2.terminate_instances(InstanceIds=[instance])
    return seconds, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    log = Path(tempfile.gettempdir()) / f"bench-instance-boot-{os.getpid()}.log"
    base_times, cand_times, memories = [], [], []
    with launch.running(settings={"LOCALCLOUD_INSTANCES": "containers"}, log=log) as cloud:
        ec2 = boto3.client("ec2", endpoint_url=cloud.url)
        images = ec2.describe_images(Owners=["136693071363"], Filters=[
            {"Name": "name", "Values": ["debian-12-amd64-*"]},
            {"Name": "architecture", "Values": ["x86_64"]}])["Images"]
        newest = max(images, key=lambda i: i["CreationDate"])
        ami = newest["ImageId"]
        image = next((image for pattern, image in settings.ami_images()
                      if fnmatch.fnmatchcase(newest["Name"], pattern)), None)
        if image is None or _docker("image", "inspect", image).returncode != 0:
            raise SystemExit(f"bench: no image for {newest['Name']} ({image}): run `make images`")
        for index in range(args.rounds):
            base_times.append(baseline(image, index))
            seconds, memory = candidate(ec2, ami)
            cand_times.append(seconds)
            memories.append(memory)
            print(f"round {index + 1}: docker run -> done {base_times[-1]:.1f} s, "
                  f"RunInstances -> done {seconds:.1f} s, instance memory {memory}", flush=True)
    base, cand = statistics.median(base_times), statistics.median(cand_times)
    print(f"median: baseline (docker run -> cloud-init done) {base:.1f} s, "
          f"local cloud (RunInstances -> cloud-init done) {cand:.1f} s, "
          f"ratio {cand / base:.2f}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
