"""What a person needs once ``make local`` has converged the stack on the twin.

    python -m localcloud.twin.summary --port 4566 [--wait 600] [--out .localcloud/twin.json]

Reads the twin (``GET /localcloud/twin``) and the AWS state the local cloud serves (the
load balancer it serves, the Auto Scaling group behind it, Route 53's alias record for
it), waits until the group's target group has a ``healthy`` target, then writes the twin
file and prints the URL, a ``curl`` line that works as printed, the instances and the
registry. Nothing here is read from the playbooks' inventory: the host name is the alias
record that points at the load balancer, as a person would find it on AWS.

Exit status: 0 with a healthy target, 1 when none became healthy in ``--wait`` seconds
(the instances' state and console output tail are printed), 2 when the local cloud does
not run the twin.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

#: The keys of the twin file (docs/localcloud.md, "make local").
KEYS = ("web_url", "api_url", "http_url", "host_header", "ca_cert", "registry", "asg_name",
        "instances", "demo_shop")
CONTAINER_TAG = "localcloud:container"


class NotTwin(RuntimeError):
    """The local cloud does not run the twin, or serves no load balancer."""


def _twin(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/localcloud/twin", timeout=10) as answer:
        report: dict[str, Any] = json.load(answer)
    if not report.get("enabled"):
        raise NotTwin(f"the local cloud on {url} runs without the twin (LOCALCLOUD_TWIN=off): "
                      "nothing serves the stack. `make localcloud-stop`, then `make local` "
                      "(the twin is on by default)")
    return report


def _clients(url: str, region: str) -> dict[str, Any]:
    import boto3

    session = boto3.session.Session(aws_access_key_id="localcloud",
                                    aws_secret_access_key="localcloud", region_name=region)
    return {name: session.client(name, endpoint_url=url)
            for name in ("elbv2", "autoscaling", "ec2", "route53")}


def _region_of(arn: str) -> str:
    return arn.split(":")[3]


def _host_header(route53: Any, dns_name: str) -> str:
    """The name of the alias record that points at the load balancer ("" when none)."""
    want = dns_name.lower().rstrip(".")
    for zone in route53.list_hosted_zones()["HostedZones"]:
        pages = route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone["Id"])
        for page in pages:
            for record in page["ResourceRecordSets"]:
                target = record.get("AliasTarget", {}).get("DNSName", "").lower().rstrip(".")
                if record["Type"] in ("A", "AAAA") and target.removeprefix("dualstack.") == want:
                    return str(record["Name"]).rstrip(".")
    return ""


def collect(url: str) -> dict[str, Any]:
    """The twin file's content as the local cloud sees it now."""
    twin = _twin(url)
    balancer = twin.get("load_balancer") or {}
    served = balancer.get("served") or {}
    if not served.get("arn"):
        raise NotTwin(f"the twin serves no load balancer yet ({balancer.get('errors') or 'none'})")
    aws = _clients(url, _region_of(served["arn"]))
    host = _host_header(aws["route53"], served["dns_name"])
    groups = {g["TargetGroupArn"] for g in aws["elbv2"].describe_target_groups(
        LoadBalancerArn=served["arn"])["TargetGroups"]}
    asgs = [g for g in aws["autoscaling"].describe_auto_scaling_groups()["AutoScalingGroups"]
            if groups & set(g.get("TargetGroupARNs", []))]
    asg = asgs[0] if asgs else None
    health: dict[str, str] = {}
    for arn in sorted(set(asg["TargetGroupARNs"]) & groups if asg else ()):
        for target in aws["elbv2"].describe_target_health(TargetGroupArn=arn)[
                "TargetHealthDescriptions"]:
            health[target["Target"]["Id"]] = target["TargetHealth"]["State"]
    instances = []
    ids = [i["InstanceId"] for i in asg["Instances"]] if asg else []
    if ids:
        for reservation in aws["ec2"].describe_instances(InstanceIds=ids)["Reservations"]:
            for inst in reservation["Instances"]:
                tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
                instances.append({"id": inst["InstanceId"],
                                  "container": tags.get(CONTAINER_TAG, ""),
                                  "state": inst["State"]["Name"],
                                  "target_health": health.get(inst["InstanceId"], "unregistered")})
    https = balancer.get("https", "")
    http = balancer.get("http", "")
    https_port = https.rpartition(":")[2]
    http_port = http.rpartition(":")[2]
    name = host or served["dns_name"]
    demo = twin.get("demo_shop") or {}
    edge = (twin.get("web_edge") or {}).get("https", "")
    return {
        # the distribution on the twin's CloudFront edge, under the name a browser resolves
        "web_url": f"https://localhost:{edge.rpartition(':')[2]}/" if edge else "",
        "api_url": f"https://{name}:{https_port}/" if https else "",
        "http_url": f"http://{name}:{http_port}/" if http else "",
        "host_header": name,
        "ca_cert": twin["ca_cert"],
        "registry": twin["registry"],
        "asg_name": asg["AutoScalingGroupName"] if asg else "",
        "instances": sorted(instances, key=lambda i: i["id"]),
        "demo_shop": {"product_url": demo.get("product_url", ""),
                      "admin_url": demo.get("admin_url", "")},
    }


def curl_line(summary: dict[str, Any], path: str = "health") -> str:
    """A curl command that reaches the API through the twin's balancer, as printed."""
    port = summary["api_url"].rstrip("/").rpartition(":")[2]
    return (f"curl --cacert {summary['ca_cert']} --resolve {summary['host_header']}:{port}:127.0.0.1 "
            f"{summary['api_url']}{path}")


def healthy(summary: dict[str, Any]) -> bool:
    return any(i["target_health"] == "healthy" for i in summary["instances"])


def render(summary: dict[str, Any]) -> str:
    lines = [
        f"Web app:      {summary['web_url']}   (open it in a browser that trusts the twin's CA "
        f"{summary['ca_cert']}: docs/localcloud.md, \"The web app\")",
        f"API URL:      {summary['api_url']}   (Host {summary['host_header']}, "
        f"HTTP {summary['http_url']})",
        f"Try it:       {curl_line(summary)}",
        f"Registry:     {summary['registry']}   (docker push from this machine)",
        f"Auto Scaling: {summary['asg_name']}",
    ]
    for inst in summary["instances"]:
        lines.append(f"  {inst['id']}  {inst['state']:<8}  target {inst['target_health']:<12}"
                     f"  container {inst['container'] or '-'}")
    shop = summary["demo_shop"]
    if shop["product_url"]:
        lines.append(f"Demo shop:    {shop['product_url']} (as instances reach it); "
                     f"change a price: curl -X POST -d '{{\"price\": \"89.99\"}}' "
                     f"{shop['admin_url'].format(n=1)}")
    return "\n".join(lines)


def _console_tail(url: str, instance_id: str, region: str) -> str:
    import base64

    ec2 = _clients(url, region)["ec2"]
    output = ec2.get_console_output(InstanceId=instance_id).get("Output", "")
    text = output if "\n" in output else base64.b64decode(output or b"").decode(errors="replace")
    return "\n".join(text.splitlines()[-15:])


def write(summary: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps({k: summary[k] for k in KEYS}, indent=2) + "\n")
    os.replace(tmp, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud twin-summary")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--wait", type=float, default=600.0,
                        help="seconds to wait for a healthy target (0: do not wait)")
    parser.add_argument("--out", type=Path,
                        default=Path(os.environ.get("LOCALCLOUD_STATE_DIR", "").strip()
                                     or ".localcloud") / "twin.json")
    args = parser.parse_args(argv)
    url = f"http://127.0.0.1:{args.port}"
    deadline = time.monotonic() + args.wait
    started = time.monotonic()
    last = ""
    while True:
        try:
            summary = collect(url)
        except NotTwin as exc:
            if time.monotonic() >= deadline or "LOCALCLOUD_TWIN=off" in str(exc):
                print(f"localcloud: {exc}", file=sys.stderr)
                return 2
            time.sleep(2)
            continue
        write(summary, args.out)
        if healthy(summary) or time.monotonic() >= deadline:
            break
        state = ", ".join(f"{i['id']} {i['state']}/{i['target_health']}"
                          for i in summary["instances"]) or "no instance yet"
        if state != last:
            print(f"localcloud: waiting for a healthy target ({time.monotonic() - started:.0f} s): "
                  f"{state}", flush=True)
            last = state
        time.sleep(3)
    print(render(summary))
    print(f"Twin file:    {args.out}")
    if healthy(summary):
        return 0
    print(f"localcloud: no healthy target after {args.wait:g} s; the instances' boot output "
          "(GetConsoleOutput) ends with:", file=sys.stderr)
    region = summary["api_url"] and _region_of(_twin(url)["load_balancer"]["served"]["arn"])
    for inst in summary["instances"]:
        print(f"--- {inst['id']}\n{_console_tail(url, inst['id'], region)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
