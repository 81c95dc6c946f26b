"""Fault drills (issue 17): how the API degrades while a dependency fails, and recovers.

    .venv/bin/python bench/faults.py [--fault-seconds 60] [--rate 20] [--drill NAME ...]
    make local && .venv/bin/python bench/faults.py --drill app-kill [--how docker-kill|crash]

Starts on loopback, for this run only: a local cloud, a fault proxy in front of it (the API
reaches DynamoDB/SQS only through it), a private MariaDB and the API under gunicorn
(autobuy.gunicorn_conf, 2 workers x 4 threads) — the `make api` setup. Then, for each
drill, sends mixed traffic at --rate req/s (open loop; /health, GET /v1/me, GET /v1/billing,
GET /v1/items, dev sign-ins and item creates, see tests/app/support/drills.py) for 3 s,
injects the fault for --fault-seconds, restores it and keeps the traffic 10 s more:

  db-freeze     MariaDB stopped with SIGSTOP (a partition / stuck failover), then SIGCONT
  db-kill       MariaDB killed with SIGKILL, then started again (crash recovery)
  dynamo-slow   DynamoDB/SQS answering after 5 s (longer than the read timeout)
  dynamo-throttle  DynamoDB/SQS answering ThrottlingException
  dynamo-5xx    DynamoDB/SQS answering HTTP 500

Figures per drill (targets of the issue in brackets): /health p99 [< 100 ms] and failures,
status codes and latencies of the dependency's calls during the fault [503 within 3 s, no
500], time to full recovery after the dependency returns [< 5 s], instances the ALB would
replace [0] (its /health check: 5 s timeout, 3 failures 30 s apart), writes answered done
but lost [0]. Results also go to bench/results/faults.json.

app-kill (only when named; needs the twin that `make local` runs, read from
$LOCALCLOUD_STATE_DIR/twin.json, default .localcloud, and the local cloud on $LOCALCLOUD_PORT,
default 4566; see tests/app/support/twin_drill.py): the Auto Scaling group set to 2 instances
(left at 2), the same mixed traffic through the balancer's HTTPS listener, and the API
container of ONE instance killed inside it — `--how docker-kill` (`docker kill`, a manual
stop to Docker: the restart policy does not apply) or `--how crash` (SIGKILL to its process,
as the OOM killer does: the restart policy applies). Figures: requests failed (no answer or
5xx) and when, /health p99, when the balancer took the target out, whether the container came
back, instances replaced, time until the group has 2 healthy targets again, writes lost.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "app")]

from tests.app.support.drills import DB_KINDS, DYNAMO_KINDS, DrillStack, run_drill  # noqa: E402

DRILLS = ("db-freeze", "db-kill", "dynamo-slow", "dynamo-throttle", "dynamo-5xx")
TWIN_DRILLS = ("app-kill",)


def _app_kill(how: str, rate: float) -> dict:
    from tests.app.support.twin_drill import Twin, run_app_kill

    state = Path(os.environ.get("LOCALCLOUD_STATE_DIR", ROOT / ".localcloud"))
    twin_file = state / "twin.json"
    if not twin_file.is_file():
        sys.exit(f"faults: {twin_file} is missing: app-kill needs the twin (`make local`)")
    twin = Twin(twin_file, int(os.environ.get("LOCALCLOUD_PORT", "4566")))
    return run_app_kill(twin, how=how, rate=rate)


def _print_app_kill(f: dict) -> None:
    h, d = f["health"], f["during_fault"]
    print(f"\n== {f['drill']} in {f['instance']} under {f['rate']} req/s "
          f"(group scaled to 2 healthy targets in {f['scale_to_2_seconds']} s)")
    print("  timeline (s after the kill):")
    for line in f["timeline"]:
        print(f"    {line}")
    print(f"  /health: {h['count']} requests, p50 {h['p50_ms']} ms, p99 {h['p99_ms']} ms, "
          f"max {h['max_ms']} ms")
    print(f"  from the kill to 2 healthy targets: {d['count']} requests, codes {d['codes']}, "
          f"p99 {d['p99_ms']} ms")
    print(f"  failed (no answer or 5xx): {f['failed']} {f['failed_by_kind']} codes "
          f"{f['failed_codes']}; before the target was out {f['failed_before_target_out']}, "
          f"after {f['failed_after_target_out']} (after it was out or back: "
          f"{f['failed_after_out_or_back']}); last {f['last_failure_seconds']} s after "
          f"the kill")
    print(f"  recovery (2 healthy targets): {f['recovery_seconds']} s; app container at the "
          f"end: {f['container_at_end']}; instances replaced {f['instances_replaced']}, "
          f"new {f['instances_new']}")
    print(f"  after recovery: {f['after_recovery']['count']} requests, codes "
          f"{f['after_recovery']['codes']}")
    w = f["writes"]
    print(f"  writes answered done: {w['users_answered_done']} sign-ins, "
          f"{w['items_answered_done']} items; lost: {w['users_lost']} + {w['items_lost']}")


def _app_kill_verdict(f: dict) -> list[str]:
    bad = []
    if f["health"]["p99_ms"] >= 100:
        bad.append(f"/health p99 {f['health']['p99_ms']} ms >= 100")
    # Requests the balancer sent to the dead container before its health checks took the
    # target out (or before its restart policy brought it back) fail on AWS too: an ALB does
    # not retry another target. They are reported above; after that moment none may fail.
    if f["failed_after_out_or_back"]:
        bad.append(f"{f['failed_after_out_or_back']} requests failed after the target was out "
                   "or the container back")
    if not f["recovered"]:
        bad.append("not back at 2 healthy targets")
    if f["writes"]["users_lost"] or f["writes"]["items_lost"]:
        bad.append(f"writes lost: {f['writes']}")
    return bad


def _drill(stack: DrillStack, name: str, seconds: float, rate: float) -> dict:
    common = {"name": name, "fault_seconds": seconds, "rate": rate, "after": 10.0}
    if name == "db-freeze":
        return run_drill(stack, inject=stack.freeze_db, restore=stack.thaw_db, kinds=DB_KINDS,
                         **common)
    if name == "db-kill":
        return run_drill(stack, inject=stack.kill_db, restore=stack.restart_db, kinds=DB_KINDS,
                         **common)
    mode, delay = {"dynamo-slow": ("slow", 5.0), "dynamo-throttle": ("throttle", 0.0),
                   "dynamo-5xx": ("error", 0.0)}[name]
    return run_drill(stack, inject=lambda: stack.proxy.set(mode, delay),
                     restore=lambda: stack.proxy.set("pass"), kinds=DYNAMO_KINDS, **common)


def _verdict(f: dict) -> list[str]:
    bad = []
    if f["health"]["p99_ms"] >= 100:
        bad.append(f"/health p99 {f['health']['p99_ms']} ms >= 100")
    if f["health_failures"]:
        bad.append(f"{f['health_failures']} /health failures")
    slow = [k for k, s in f["during_fault"].items() if s["max_ms"] >= 3000]
    if slow:
        bad.append(f"answers slower than 3 s: {', '.join(slow)}")
    if f["server_errors"] or f["no_answer"]:
        bad.append(f"{f['server_errors']} 5xx other than 503, {f['no_answer']} without answer")
    if f["recovery_seconds"] >= 5:
        bad.append(f"recovery {f['recovery_seconds']} s >= 5")
    if f["instances_replaced"]:
        bad.append("an instance would be replaced")
    if f["writes"]["users_lost"] or f["writes"]["items_lost"]:
        bad.append(f"writes lost: {f['writes']}")
    return bad


def _print(f: dict) -> None:
    h = f["health"]
    print(f"\n== {f['drill']}: {f['fault_seconds']} s fault under {f['rate']} req/s")
    print(f"  /health: {h['count']} requests, p50 {h['p50_ms']} ms, p99 {h['p99_ms']} ms, "
          f"max {h['max_ms']} ms, failures {f['health_failures']}, "
          f"instances replaced {f['instances_replaced']}")
    for kind, s in f["during_fault"].items():
        print(f"  during the fault {kind:8s} {s['count']:4d} requests, codes {s['codes']}, "
              f"p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, max {s['max_ms']} ms")
    print(f"  503 body: {f['sample_503']!r}, Retry-After: {f['retry_after']}")
    print(f"  recovery: {f['recovery_seconds']} s after the dependency returned "
          f"({f['after_fault_ok']}/{f['after_fault']} answered after it)")
    print(f"  5xx other than 503: {f['server_errors']}, no answer: {f['no_answer']}")
    w = f["writes"]
    print(f"  writes answered done: {w['users_answered_done']} sign-ins, "
          f"{w['items_answered_done']} items; lost: {w['users_lost']} + {w['items_lost']}")
    bad = _verdict(f)
    print("  targets: " + ("all met" if not bad else "MISSED: " + "; ".join(bad)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fault-seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--drill", action="append", choices=DRILLS + TWIN_DRILLS,
                        help="run only these (repeatable); default: all but app-kill")
    parser.add_argument("--how", choices=("docker-kill", "crash"), default="docker-kill",
                        help="app-kill: how the API container is killed")
    args = parser.parse_args()
    if args.fault_seconds <= 0 or args.rate <= 0:
        parser.error("--fault-seconds and --rate must be positive")
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f} at the start (other work shares these cores)")
    results = []
    started = time.monotonic()
    chosen = args.drill or list(DRILLS)
    stack_drills = [name for name in chosen if name in DRILLS]
    if stack_drills:
        with tempfile.TemporaryDirectory(prefix="faults-") as tmp, DrillStack(Path(tmp)) as stack:
            for name in stack_drills:
                figures = _drill(stack, name, args.fault_seconds, args.rate)
                figures["load_average_1m"] = round(os.getloadavg()[0], 2)
                _print(figures)
                results.append(figures)
    if "app-kill" in chosen:
        figures = _app_kill(args.how, args.rate)
        figures["load_average_1m"] = round(os.getloadavg()[0], 2)
        _print_app_kill(figures)
        results.append(figures)
    out = ROOT / "bench" / "results" / "faults.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    missed = [f["drill"] for f in results
              if (_app_kill_verdict(f) if "how" in f else _verdict(f))]
    print(f"\n{len(results)} drills in {time.monotonic() - started:.0f} s; "
          f"targets missed in: {', '.join(missed) or 'none'}; results in {out.relative_to(ROOT)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
