"""API benchmark: the Falcon app vs a bare WSGI app, both under the same gunicorn config.

    .venv/bin/python bench/api.py [--seconds 5] [--rate 200] [--connections 8]

One run starts everything it needs on loopback (a local cloud, a private MariaDB,
the API and the baseline under gunicorn with autobuy.gunicorn_conf), seeds a user with
20 items in DynamoDB, then drives load from a second process (bench/_load.py):

  GET /health      closed loop, max requests/s       -> ratio API / bare (target >= 0.8)
  GET /v1/items    closed loop, max requests/s       -> ratio API / bare
  GET /v1/items    open loop at --rate req/s          -> p50/p99 (target p99 <= 15 ms)
  GET /v1/items    the same API on in-memory stores (bench/memory_app.py) -> the API's own cost
  DynamoDB Query   the same query at --rate req/s from this process -> the store's share

Bounded: each phase stops after --seconds or 20 000 requests. Results also go to
bench/results/api.json.

Every phase also records where the CPU went (ms of CPU per request for the process
under test, the local cloud and the load generator, from /proc) and how many cores
other work on the machine took meanwhile (``other_cores``): on a shared 2-core machine
a latency figure means little without them. Before each such phase the bench waits
(``--quiet-wait``, default up to 120 s) until the machine is idle between bursts of
other work; the wait is recorded, and a phase that other work overlapped still counts.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT))
from localcloud import launch  # noqa: E402
from localcloud.launch import free_port  # noqa: E402

PY = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer") from None
            time.sleep(0.1)


_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and all its descendants still running."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK + sum(tree_cpu(int(c)) for c in children)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / _TICK, sum(values) / _TICK


def wait_quiet(limit_cores: float, max_wait: float) -> float:
    """Wait (at most ``max_wait`` s) until the machine is nearly idle between phases, so a
    phase does not start inside someone else's burst; returns the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < max_wait:
        busy, total = machine_cpu()
        time.sleep(1.0)
        busy2, total2 = machine_cpu()
        cores = (busy2 - busy) / ((total2 - total) / (os.cpu_count() or 1)) if total2 > total else 0.0
        if cores <= limit_cores:
            break
    return round(time.monotonic() - start, 1)


def own_cpu() -> float:
    """CPU seconds of this process and its finished children (the load generators)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def call(url: str, body: dict | None = None, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=10) as resp:
        return json.loads(resp.read())


QUIET = {"cores": 0.3, "max_wait": 0.0}  # from --quiet-cores / --quiet-wait


def load(mode: str, url: str, token: str, conns: int, seconds: float, arg: float,
         watch: dict[str, int] | None = None) -> dict:
    """Run one phase; with ``watch`` ({name: pid}), add CPU ms per request of each process
    tree, of the load generator (and this process), and the cores other work used."""
    watch = watch or {}
    waited = wait_quiet(QUIET["cores"], QUIET["max_wait"]) if watch and QUIET["max_wait"] else None
    before = {name: tree_cpu(pid) for name, pid in watch.items()}
    own, (busy, total) = own_cpu(), machine_cpu()
    out = subprocess.run([PY, str(ROOT / "bench/_load.py"), mode, url, token or "-", str(conns),
                          str(seconds), str(arg)], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    used = {name: tree_cpu(pid) - before[name] for name, pid in watch.items()}
    used["load_generator"] = own_cpu() - own
    busy_after, total_after = machine_cpu()
    n = max(result["count"], 1)
    if watch:
        result["cpu_ms_per_request"] = {name: round(sec / n * 1000, 2) for name, sec in used.items()}
        wall = (total_after - total) / (os.cpu_count() or 1)
        other = (busy_after - busy) - sum(used.values())
        result["other_cores"] = round(max(other, 0.0) / wall, 2) if wall > 0 else None
        if waited is not None:
            result["waited_for_quiet_s"] = waited
    return result


def store_latency(client, prefix: str, user_id: str, per_second: float, seconds: float) -> dict:
    """The items query the API makes, at the same rate, timed from this process."""
    lat = []
    start = time.perf_counter()
    for i in range(int(per_second * seconds)):
        if time.perf_counter() > start + seconds * 2:
            break
        due = start + i / per_second
        if (delay := due - time.perf_counter()) > 0:
            time.sleep(delay)
        t = time.perf_counter()
        client.query(TableName=prefix + "autobuy_items", IndexName="userId-lastChecked-index",
                     KeyConditionExpression="userId = :u", ExpressionAttributeValues={":u": {"S": user_id}},
                     ScanIndexForward=False, Limit=20)
        lat.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - start
    lat.sort()
    return {"count": len(lat), "rps": round(len(lat) / elapsed, 1), "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
            "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--low-rate", type=float, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--quiet-wait", type=float, default=120,
                        help="before each measured phase, wait up to this many s for the machine to be idle "
                             "(other work on a shared machine; 0 = do not wait); the cores other work took "
                             "during each phase are recorded either way")
    parser.add_argument("--quiet-cores", type=float, default=0.3, help="'idle' = at most this many busy cores")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure GET /v1/items at --rate this many times (all runs reported; the "
                             "headline is the median p99, with each run's interference beside it)")
    args = parser.parse_args()
    QUIET.update(cores=args.quiet_cores, max_wait=args.quiet_wait)

    import boto3
    from autobuy.db import make_engine
    from autobuy.dev.mariadb import MariaDB
    from autobuy.dev.tables import ensure_tables
    from autobuy.migrate import run as migrate

    work = Path(tempfile.mkdtemp(prefix="autobuy-bench-api-"))
    procs: list[subprocess.Popen] = []
    db = MariaDB(work / "mariadb", free_port())
    try:
        local_cloud = launch.start()
        procs.append(local_cloud.process)
        cloud = local_cloud.url
        db.start()
        password = secrets.token_urlsafe(16)
        db.ensure_database("autobuy", "autobuy", password)
        prefix = "bench_"
        aws = dict(endpoint_url=cloud, region_name="eu-central-1", aws_access_key_id="localcloud",
                   aws_secret_access_key="localcloud")
        dynamo = boto3.client("dynamodb", **aws)
        ensure_tables(dynamo, prefix)
        tiers = {"free": {"item_limit": 50, "check_interval_minutes": 360, "history_days": 30,
                          "manual_checks_per_hour": 5},
                 "pro": {"item_limit": 50, "check_interval_minutes": 60, "history_days": 365,
                         "manual_checks_per_hour": 30},
                 "ultra": {"item_limit": 200, "check_interval_minutes": 15, "history_days": 730,
                           "manual_checks_per_hour": 120, "auto_buy": True}}
        env = {**os.environ, "AUTOBUY_ENV": "development", "AUTOBUY_DEV_SIGNIN": "true",
               "AUTOBUY_DB_HOST": "127.0.0.1", "AUTOBUY_DB_PORT": str(db.port), "AUTOBUY_DB_USER": "autobuy",
               "AUTOBUY_DB_PASSWORD": password, "AUTOBUY_DB_NAME": "autobuy",
               "AUTOBUY_JWT_SIGNING_KEY": secrets.token_urlsafe(48), "AUTOBUY_GOOGLE_CLIENT_ID": "bench",
               "AUTOBUY_STRIPE_SECRET_KEY": "sk_test_bench", "AUTOBUY_STRIPE_WEBHOOK_SECRET": "whsec_bench",
               "AUTOBUY_AWS_ENDPOINT_URL": cloud, "AUTOBUY_TABLE_PREFIX": prefix,
               "AUTOBUY_TIERS": json.dumps(tiers), "AWS_ACCESS_KEY_ID": "localcloud",
               "AWS_SECRET_ACCESS_KEY": "localcloud", "AUTOBUY_LOG_LEVEL": "WARNING",
               "GUNICORN_ACCESSLOG": "/dev/null", "PYTHONPATH": str(ROOT / "app")}
        from autobuy.config import Settings
        migrate(make_engine(Settings(_env_file=None, db_port=db.port, db_password=password,
                                     jwt_signing_key="x" * 32, google_client_id="bench",
                                     stripe_secret_key="x", stripe_webhook_secret="x",
                                     env="development"), migrations=True), "upgrade", "head")

        api_port, bare_port = free_port(), free_port()
        api = f"http://127.0.0.1:{api_port}"
        bare = f"http://127.0.0.1:{bare_port}"
        procs.append(subprocess.Popen([GUNICORN, "-c", "python:autobuy.gunicorn_conf", "autobuy.wsgi:application"],
                                      env={**env, "GUNICORN_BIND": f"127.0.0.1:{api_port}"}, cwd=work,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_http(api + "/health")
        signed = call(api + "/v1/auth/dev", {"email": "bench@example.com"})
        token, user_id = signed["access_token"], signed["user"]["id"]
        for i in range(20):
            call(api + "/v1/items", {"url": f"https://www.example-shop.de/p/{i}", "target_price": f"{i + 1}.99",
                                     "currency": "EUR", "title": f"Product {i}"}, token)
        body = urllib.request.urlopen(urllib.request.Request(
            api + "/v1/items", headers={"Authorization": f"Bearer {token}"})).read()
        assert len(json.loads(body)["items"]) == 20
        (work / "items.json").write_bytes(body)
        procs.append(subprocess.Popen([GUNICORN, "-c", "python:autobuy.gunicorn_conf", "bare_app:application"],
                                      env={**env, "GUNICORN_BIND": f"127.0.0.1:{bare_port}",
                                           "BENCH_BODIES_DIR": str(work),
                                           "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT / 'app'}"},
                                      cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_http(bare + "/health")
        mem_port = free_port()
        mem = f"http://127.0.0.1:{mem_port}"
        procs.append(subprocess.Popen([GUNICORN, "-c", "python:autobuy.gunicorn_conf", "memory_app:application"],
                                      env={**env, "GUNICORN_BIND": f"127.0.0.1:{mem_port}",
                                           "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT / 'app'}"},
                                      cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_http(mem + "/health")
        from autobuy.services.tokens import AccessTokens
        mem_token = AccessTokens(env["AUTOBUY_JWT_SIGNING_KEY"], 900).issue("bench-user")

        c, s = args.connections, args.seconds
        cloud_pid, api_pid, bare_pid, mem_pid = (p.pid for p in procs)
        api_watch = {"api": api_pid, "local_cloud": cloud_pid}
        for target, tok in ((api, token), (bare, token), (mem, mem_token)):  # warm-up
            load("closed", target + "/v1/items", tok, c, 2, 500)
        results = {
            "health_api": load("closed", api + "/health", "-", c, s, 20000),
            "health_bare": load("closed", bare + "/health", "-", c, s, 20000),
            "items_api": load("closed", api + "/v1/items", token, c, s, 20000, api_watch),
            "items_bare": load("closed", bare + "/v1/items", token, c, s, 20000),
            "items_api_rate": load("rate", api + "/v1/items", token, c, s * 2, args.rate, api_watch),
            "items_bare_rate": load("rate", bare + "/v1/items", token, c, s * 2, args.rate, {"bare": bare_pid}),
            # the same API on in-memory stores: what the API itself adds, without the emulator
            "items_memory": load("closed", mem + "/v1/items", mem_token, c, s, 20000),
            "items_memory_rate": load("rate", mem + "/v1/items", mem_token, c, s * 2, args.rate,
                                      {"memory_api": mem_pid}),
            "store_rate": store_latency(dynamo, prefix, user_id, args.rate, s),
            # a rate the local cloud sustains, to show what the API itself adds
            "items_api_rate_low": load("rate", api + "/v1/items", token, c, s * 2, args.low_rate, api_watch),
            "store_rate_low": store_latency(dynamo, prefix, user_id, args.low_rate, s),
        }
        runs = [results["items_api_rate"]]
        for _ in range(args.repeat - 1):
            runs.append(load("rate", api + "/v1/items", token, c, s * 2, args.rate, api_watch))
        results["items_api_rate_runs"] = [
            {k: r.get(k) for k in ("rps", "p50_ms", "p99_ms", "max_ms", "dropped", "other_cores",
                                   "cpu_ms_per_request")} for r in runs]
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        db.stop()
        shutil.rmtree(work, ignore_errors=True)

    health_ratio = results["health_api"]["rps"] / results["health_bare"]["rps"]
    items_ratio = results["items_api"]["rps"] / results["items_bare"]["rps"]
    run_p99 = sorted(r["p99_ms"] for r in results["items_api_rate_runs"])
    p99 = run_p99[(len(run_p99) - 1) // 2]  # the median run (the only one by default)
    low = results["items_api_rate_low"]
    share = low["store_mean_ms"] / low["mean_ms"]  # from the API's own Server-Timing header
    print(f"{'phase':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>10}{'errors':>8}{'dropped':>9}")
    for name, r in results.items():
        if not isinstance(r, dict):
            continue
        print(f"{name:<22}{r.get('rps', '-'):>9}{r['p50_ms']:>9}{r['p99_ms']:>10}{r.get('errors', 0):>8}"
              f"{r.get('dropped', 0):>9}")
    print(f"GET /health     API / bare (req/s): {health_ratio:.2f}x  (target >= 0.8) "
          f"{'PASS' if health_ratio >= 0.8 else 'FAIL'}")
    print(f"GET /v1/items   API / bare (req/s): {items_ratio:.2f}x  (baseline: bare WSGI, same body)")
    print(f"GET /v1/items   p99 at {args.rate:.0f} req/s: {p99} ms (target <= 15 ms) {'PASS' if p99 <= 15 else 'FAIL'}")
    if len(run_p99) > 1:
        print("GET /v1/items   runs at the rate (p99 ms / cores of other work): " + ", ".join(
            f"{r['p99_ms']} / {r['other_cores']}" for r in results["items_api_rate_runs"]))
    mem_p99 = results["items_memory_rate"]["p99_ms"]
    print(f"GET /v1/items   same API on in-memory stores: p99 at {args.rate:.0f} req/s: {mem_p99} ms "
          f"{'(<= 15 ms)' if mem_p99 <= 15 else '(> 15 ms)'}; req/s vs bare: "
          f"{results['items_memory']['rps'] / results['items_bare']['rps']:.2f}x")
    print(f"DynamoDB (local cloud) share of GET /v1/items time at {args.low_rate:.0f} req/s: {share:.0%} "
          f"(Server-Timing: store mean {low['store_mean_ms']} ms of {low['mean_ms']} ms per request; "
          f"the local cloud alone manages {results['store_rate']['rps']:.0f} queries/s "
          f"at p50 {results['store_rate']['p50_ms']} ms)")
    hot = results["items_api_rate"]
    share_at_rate = hot["store_mean_ms"] / hot["mean_ms"] if hot.get("mean_ms") else float("nan")
    print(f"DynamoDB (local cloud) share of GET /v1/items time at {args.rate:.0f} req/s: {share_at_rate:.0%} "
          f"(store mean {hot.get('store_mean_ms')} ms of {hot.get('mean_ms')} ms per request)")
    for name in ("items_api_rate", "items_memory_rate"):
        cpu = results[name].get("cpu_ms_per_request", {})
        need = sum(cpu.values()) * results[name]["rps"] / 1000
        print(f"CPU per request in {name}: " + ", ".join(f"{k} {v} ms" for k, v in cpu.items())
              + f"; {need:.2f} of {os.cpu_count()} cores at {results[name]['rps']} req/s, "
              f"other work on the machine meanwhile: {results[name].get('other_cores')} cores "
              f"(waited {results[name].get('waited_for_quiet_s', 0)} s for an idle machine first)")
    out = ROOT / "bench/results"
    out.mkdir(exist_ok=True)
    (out / "api.json").write_text(json.dumps({**results, "health_ratio": health_ratio, "items_ratio": items_ratio,
                                              "store_share_p50": share, "store_share_at_rate": share_at_rate,
                                              "items_p99_at_rate": p99, "cpu_count": os.cpu_count()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
