"""What the local cloud's extensions cost per API call, against plain moto, in one run.

Starts two servers on free loopback ports — baseline: moto's own ThreadedMotoServer
(no extensions, no counter); candidate: ``python -m localcloud serve`` — and times the
same boto3 calls against each (sequential, then 8 threads). Prints per-call latency and
the ratio candidate / baseline (1.00 = no overhead), plus the counter's total as a check.

    .venv/bin/python bench/localcloud_overhead.py [--calls N]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from localcloud import launch  # noqa: E402

BASELINE = ("import sys, time; from moto.server import ThreadedMotoServer; "
            "s = ThreadedMotoServer(ip_address='127.0.0.1', port=int(sys.argv[1]), verbose=False); "
            "s.start(); time.sleep(3600)")


def _start_baseline() -> tuple[str, subprocess.Popen]:
    """Plain moto, waited for like a local cloud (on moto's own route)."""
    port = launch.free_port()
    proc = subprocess.Popen([sys.executable, "-c", BASELINE, str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = launch.url_of(port)
    launch.wait_until_answers(url, proc, path="/moto-api/data.json", timeout=30)
    return url, proc


def _clients(url: str) -> list:
    kw = {"endpoint_url": url, "region_name": "eu-central-1",
          "aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
    return [boto3.client("ec2", **kw), boto3.client("dynamodb", **kw),
            boto3.client("route53", **kw), boto3.client("autoscaling", **kw)]


def _one_round(clients: list) -> None:
    ec2, dynamodb, route53, autoscaling = clients
    ec2.describe_vpcs()
    dynamodb.list_tables()
    route53.list_hosted_zones()
    autoscaling.describe_auto_scaling_groups()


def _measure(url: str, rounds: int) -> tuple[float, float]:
    clients = _clients(url)
    _one_round(clients)  # warm up backends and connections
    started = time.perf_counter()
    for _ in range(rounds):
        _one_round(clients)
    sequential = (time.perf_counter() - started) / (rounds * 4)
    pool_clients = [_clients(url) for _ in range(8)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: [_one_round(pool_clients[i]) for _ in range(rounds // 8 or 1)],
                      range(8)))
    threaded = (time.perf_counter() - started) / (8 * (rounds // 8 or 1) * 4)
    return sequential, threaded


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=400, help="API calls per mode (default 400)")
    rounds = max(8, parser.parse_args().calls // 4)
    base_url, base = _start_baseline()
    candidate = launch.start()
    cand_url, cand = candidate.url, candidate.process
    try:
        time.sleep(5)  # let the candidate's botocore index build finish, as in normal use
        base_seq, base_thr = _measure(base_url, rounds)
        cand_seq, cand_thr = _measure(cand_url, rounds)
        with urllib.request.urlopen(cand_url + "/localcloud/calls", timeout=30) as resp:
            counted = json.load(resp)["total"]
    finally:
        for proc in (base, cand):
            proc.terminate()
            proc.wait(timeout=10)
    expected = 4 * (1 + rounds + 8 * (rounds // 8 or 1))
    print(f"baseline  = plain moto ThreadedMotoServer; candidate = python -m localcloud serve")
    print(f"sequential: baseline {base_seq * 1000:.2f} ms/call, localcloud {cand_seq * 1000:.2f} "
          f"ms/call, ratio {cand_seq / base_seq:.2f}")
    print(f"8 threads : baseline {base_thr * 1000:.2f} ms/call, localcloud {cand_thr * 1000:.2f} "
          f"ms/call, ratio {cand_thr / base_thr:.2f}")
    print(f"counter   : {counted} calls counted, {expected} made")
    return 0 if counted == expected else 1


if __name__ == "__main__":
    sys.exit(main())
