"""`make local` ends with the product running on the twin (issue 10 §6), as a person runs it.

One `make local` on free ports (local cloud, the balancer's HTTP and HTTPS ports) with its
own state directory; then, only through what it printed and wrote (.localcloud/twin.json):

* the twin file has exactly the documented keys, a healthy instance, and the curl line it
  printed works as printed (HTTPS verified with the twin's CA, through the balancer);
* web_url, printed first, is the twin's CloudFront edge: the app's built index.html (also for
  an SPA route) with the response headers policy's headers, and /health through to the API;
* the group's instances boot the golden AMI `make local` built (Docker and the AWS CLI
  preinstalled: the user data installs nothing), the builder is gone, and the compute tier
  run again finds the AMI and builds nothing (changed=0);
* an upgrade through Stripe Checkout from the instance: the API reaches the local cloud's
  Stripe stand-in by its twin name, the payment page opens on this machine, the stand-in's
  signed events reach the API through the balancer and the account turns pro;
* an alert e-mailed by the instance's worker through SES, read back from the local cloud;
* the web app at web_url in headless Chromium: the browser flow of the in-process e2e
  (tests/app/support/web_flow.py) with everything behind it on the twin;
* a price check end to end: development sign-in through the balancer, a demo shop product
  tracked, its price changed through the shop's admin interface, a manual check — the
  worker on the instance takes it from SQS, fetches the shop and the new price appears in
  the item's history;
* the fault drill `app-kill` (issue 17, tests/app/support/twin_drill.py): the group at 2
  healthy targets, 20 req/s of mixed traffic through the balancer, the API container of one
  instance killed (`docker kill` inside it): the balancer takes the target out, no request
  fails after that, the group is back at 2 healthy targets, no write answered done is lost;
* a release (`make release`, tests/app/support/twin_release.py) of 3 instances under 20 req/s
  through the balancer: 0 failed requests out of at least 2,000 during the instance refresh,
  the sign-in made before it still works; then a broken release (an image whose /health
  never answers) fails on the target group's health checks, `make release` fails naming the
  instance and the reason, the refresh rolls back, the group stays on its launch template
  version, and still no request fails;
* an in-place release (`make release` with ``autobuy_deploy_strategy=in_place``) under
  traffic: the same instances now serve the new tag, with the twin's settings, and no
  request fails (each instance leaves the target group while its container is swapped);
* `make localcloud-stop` leaves no container, network or volume of the twin.

Slow (a real boot: Debian packages, the image pull, migrations): several minutes. Needs
Docker (started when missing); under CI=true it fails instead of skipping (tests/kinds.py).
"""
from __future__ import annotations

import json
import os
import re
import shlex
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from localcloud_helpers import free_port

from localcloud.tlsclient import ResolvedHTTPSConnection
from tests.app.support.web_flow import until

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"web_url", "api_url", "http_url", "host_header", "ca_cert", "registry", "asg_name", "instances",
        "demo_shop"}
LABEL = "org.autobuy.localcloud"

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.twin, pytest.mark.playbook]


class Local:
    """What `make local` printed and wrote, and the environment it ran with."""

    def __init__(self, env: dict[str, str], output: str, state: Path) -> None:
        self.env, self.output, self.state = env, output, state
        self.twin: dict[str, Any] = json.loads((state / "twin.json").read_text())
        self.context = ssl.create_default_context(cafile=self.twin["ca_cert"])
        self.https_port = int(self.twin["api_url"].rstrip("/").rpartition(":")[2])

    def request(self, method: str, path: str, body: Any = None,
                token: str = "") -> tuple[int, Any]:
        """Through the balancer's HTTPS listener on loopback under the API's host name
        (what curl --resolve does): SNI and Host are the API's, verified with the twin's CA."""
        headers = {"Host": self.twin["host_header"], "Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        connection = ResolvedHTTPSConnection("127.0.0.1", self.https_port, self.twin["host_header"],
                                             self.context, timeout=30)
        try:
            connection.request(method, path, json.dumps(body) if body is not None else None,
                               headers)
            answer = connection.getresponse()
            raw = answer.read()
        finally:
            connection.close()
        return answer.status, json.loads(raw) if raw.startswith(b"{") else raw.decode()


def _make(target: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", target], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _owned(owner: str) -> dict[str, list[str]]:
    found = {}
    for kind in ("container", "network", "volume"):
        args = ["docker", kind, "ls", "-q", "--filter", f"label={LABEL}={owner}"]
        if kind == "container":
            args = ["docker", "ps", "-aq", "--filter", f"label={LABEL}={owner}"]
        found[kind] = subprocess.run(args, capture_output=True, text=True,
                                     check=True).stdout.split()
    return found


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory, docker_images: Callable[..., None]) -> Iterator[Local]:
    docker_images({})
    state = tmp_path_factory.mktemp("make_local")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LOCALCLOUD_", "AWS_"))}
    env.update({"LOCALCLOUD_PORT": str(free_port()), "LOCALCLOUD_STATE_DIR": str(state),
                "LOCALCLOUD_ALB_HTTP_PORT": str(free_port()),
                "LOCALCLOUD_ALB_HTTPS_PORT": str(free_port()),
                "LOCALCLOUD_WEB_HTTPS_PORT": str(free_port())})
    # An AMI image of one's own (e.g. while several worktrees share one Docker engine).
    if os.environ.get("LOCALCLOUD_AMI_IMAGES"):
        env["LOCALCLOUD_AMI_IMAGES"] = os.environ["LOCALCLOUD_AMI_IMAGES"]
    made = _make("local", env, timeout=1800)
    try:
        assert made.returncode == 0, (made.stdout + made.stderr)[-5000:]
        yield Local(env, made.stdout, state)
    finally:
        _make("localcloud-stop", env, timeout=120)


def test_make_local_prints_and_writes_what_a_person_needs(local: Local) -> None:
    twin = local.twin
    assert set(twin) == KEYS
    assert twin["api_url"] == f"https://{twin['host_header']}:{local.env['LOCALCLOUD_ALB_HTTPS_PORT']}/"
    assert twin["http_url"] == f"http://{twin['host_header']}:{local.env['LOCALCLOUD_ALB_HTTP_PORT']}/"
    assert twin["host_header"] == "api.autobuyguard.store"  # the stack's alias record
    assert Path(twin["ca_cert"]).is_file() and twin["asg_name"] == "taskapp-backend-asg"
    assert [i["target_health"] for i in twin["instances"]].count("healthy") >= 1
    for inst in twin["instances"]:
        assert set(inst) == {"id", "container", "state", "target_health"}
        assert inst["id"].startswith("i-") and inst["container"] == f"localcloud-{inst['id']}"
    assert twin["demo_shop"]["product_url"] == "http://demo-shop.twin.internal:8000/p/{n}"
    assert twin["demo_shop"]["admin_url"].startswith("http://127.0.0.1:")
    # the curl line works exactly as printed: TLS verified with the twin's CA
    (line,) = [ln for ln in local.output.splitlines() if ln.startswith("Try it:")]
    curl = shlex.split(line.removeprefix("Try it:"))
    assert curl[0] == "curl" and "--resolve" in curl and "--cacert" in curl
    answer = subprocess.run([*curl, "--silent", "--show-error", "--fail"], capture_output=True,
                            text=True, timeout=60, check=False)
    assert answer.returncode == 0, answer.stderr
    assert set(json.loads(answer.stdout)) == {"status", "timestamp", "uptime"}
    # the registry takes a docker push from this machine (the host trusts its CA)
    assert twin["registry"].startswith("127.0.0.1:")
    for label in ("API URL:", "Registry:", "Auto Scaling:"):
        assert label in local.output


def test_web_url_serves_the_app_and_the_api_through_the_edge(local: Local) -> None:
    """The twin's CloudFront edge at web_url: the distribution's bucket (the app's built
    index.html, SPA routes), its response headers policy, and /health through to the API."""
    web = local.twin["web_url"]
    assert web == f"https://localhost:{local.env['LOCALCLOUD_WEB_HTTPS_PORT']}/"
    lines = [ln for ln in local.output.splitlines() if ln.startswith(("Web app:", "API URL:"))]
    assert lines[0].startswith(f"Web app:      {web}"), lines  # printed first
    built = (ROOT / "web" / "dist" / "index.html").read_bytes()
    for path in ("", "items/42"):
        with urllib.request.urlopen(web + path, context=local.context, timeout=30) as answer:
            assert answer.read() == built
            assert answer.headers["Cache-Control"] == "no-cache"
            assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
            assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    with urllib.request.urlopen(web + "health", context=local.context, timeout=30) as answer:
        assert set(json.loads(answer.read())) == {"status", "timestamp", "uptime"}
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


def _ec2(local: Local) -> Any:
    import boto3

    return boto3.client("ec2", endpoint_url=f"http://127.0.0.1:{local.env['LOCALCLOUD_PORT']}",
                        region_name="eu-central-1", aws_access_key_id="localcloud",
                        aws_secret_access_key="localcloud")


def _golden(ec2: Any) -> list[dict[str, Any]]:
    return ec2.describe_images(Owners=["self"], Filters=[
        {"Name": "name", "Values": ["autobuy-golden-debian12-*"]}])["Images"]


def test_instances_boot_the_golden_ami_and_a_rerun_builds_none(local: Local) -> None:
    ec2 = _ec2(local)
    (golden,) = _golden(ec2)
    data = ec2.describe_launch_template_versions(
        LaunchTemplateName="taskapp-backend-lt", Versions=["$Latest"])["LaunchTemplateVersions"][
        0]["LaunchTemplateData"]
    assert data["ImageId"] == golden["ImageId"] and golden["State"] == "available"
    reservations = ec2.describe_instances(Filters=[
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])[
        "Reservations"]
    names = [t["Value"] for r in reservations for i in r["Instances"] for t in i.get("Tags", [])
             if t["Key"] == "Name"]
    assert not [n for n in names if n.endswith("-builder")], names
    instance = local.twin["instances"][0]["id"]
    console = ec2.get_console_output(InstanceId=instance)["Output"]
    assert "autobuy: Docker, the AWS CLI, jq and curl are preinstalled" in console
    assert "apt-get" not in console and "autobuy: installing" not in console

    env = {**local.env, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
    rerun = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/compute.yml",
         "-i", "inventories/local", "-e", f"aws_endpoint_url=http://127.0.0.1:{local.env['LOCALCLOUD_PORT']}",
         "-e", "autobuy_golden_ami=true"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=600, check=False)
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert re.search(r"TASK \[Start the golden AMI builder\] \**\nskipping: ", rerun.stdout)
    assert all(" changed=0 " in line for line in rerun.stdout.splitlines()
               if line.startswith("localhost ")), rerun.stdout[-3000:]
    assert [i["ImageId"] for i in _golden(ec2)] == [golden["ImageId"]]


def _set_price(admin_url: str, n: int, price: str) -> None:
    request = urllib.request.Request(admin_url.format(n=n), method="POST",
                                     data=json.dumps({"price": price}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def test_a_price_check_runs_end_to_end_on_the_twin(local: Local) -> None:
    shop = local.twin["demo_shop"]
    status, signed_in = local.request("POST", "/v1/auth/dev", {"email": "twin.e2e@example.com"})
    assert status == 200, signed_in
    token = signed_in["access_token"]
    product = 7
    _set_price(shop["admin_url"], product, "77.70")
    status, item = local.request("POST", "/v1/items", {
        "url": shop["product_url"].format(n=product), "target_price": "50.00",
        "currency": "EUR"}, token)
    assert status == 201, item
    _set_price(shop["admin_url"], product, "66.60")  # what the check must find
    status, queued = local.request("POST", f"/v1/items/{item['id']}/check", None, token)
    assert status == 202, queued
    deadline = time.monotonic() + 180
    prices: list[str] = []
    while "66.60" not in prices:
        assert time.monotonic() < deadline, f"history after 180 s: {prices}"
        time.sleep(2)
        status, history = local.request("GET", f"/v1/items/{item['id']}/history", None, token)
        assert status == 200, history
        prices = [point["price"] for point in history["items"]]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def test_an_upgrade_through_the_stripe_stand_in_reaches_the_instances_api(local: Local) -> None:
    """The instance's API creates the Checkout Session at the stand-in (its twin name,
    TLS with the twin's CA); the payment page opens on this machine; the stand-in's signed
    events reach the API through the balancer under the stack's name, verified with the
    secret `make local` registered (0600 vars file, never printed) and the app secret holds."""
    cloud = f"http://127.0.0.1:{local.env['LOCALCLOUD_PORT']}"
    vars_file = local.state / "stripe-webhook.yml"
    assert vars_file.stat().st_mode & 0o777 == 0o600
    secret = vars_file.read_text().rpartition("autobuy_stripe_webhook_secret: ")[2].strip().strip('"')
    assert secret.startswith("whsec_") and secret not in local.output
    status, signed_in = local.request("POST", "/v1/auth/dev", {"email": "twin.pay@example.com"})
    assert status == 200, signed_in
    token = signed_in["access_token"]
    assert local.request("GET", "/v1/billing", None, token)[1]["tier"] == "free"
    status, session = local.request("POST", "/v1/billing/checkout", {"tier": "pro"}, token)
    assert status == 201, session  # 503 when the instance cannot reach Stripe
    assert session["url"] == f"{cloud}/stripe/checkout/{session['id']}"
    with urllib.request.urlopen(session["url"], timeout=10) as page:
        assert "Pay and subscribe" in page.read().decode()
    try:
        urllib.request.build_opener(_NoRedirect).open(urllib.request.Request(
            session["url"] + "/pay", data=b"", method="POST"), timeout=10)
        raise AssertionError("paying did not send the browser back to the site")
    except urllib.error.HTTPError as back:
        assert back.code == 303
        # back to the site at web_url (make local's autobuy_site_url), on the twin's edge
        assert back.headers["Location"] == local.twin["web_url"] + "account?checkout=success"
    state = until("the webhook to upgrade the account", lambda: (
        answer := local.request("GET", "/v1/billing", None, token)[1])["tier"] == "pro" and answer,
        timeout=120, every=1)
    assert state["status"] == "active" and state["has_customer"], state


def test_an_alert_is_e_mailed_by_the_instances_worker_through_ses(local: Local) -> None:
    """The worker on the instance e-mails the alert through SES (the stack's verified domain
    identity) to the user's own address; the local cloud keeps what SES accepted."""
    import boto3

    ses = boto3.client("ses", endpoint_url=f"http://127.0.0.1:{local.env['LOCALCLOUD_PORT']}",
                       region_name="eu-central-1", aws_access_key_id="localcloud",
                       aws_secret_access_key="localcloud")
    verified = ses.get_identity_verification_attributes(Identities=["autobuyguard.store"])
    assert verified["VerificationAttributes"]["autobuyguard.store"]["VerificationStatus"] == "Success"
    email, product = "twin.mail@example.com", 8
    status, signed_in = local.request("POST", "/v1/auth/dev", {"email": email})
    assert status == 200, signed_in
    token = signed_in["access_token"]
    _set_price(local.twin["demo_shop"]["admin_url"], product, "55.50")  # under the target
    status, item = local.request("POST", "/v1/items", {
        "url": local.twin["demo_shop"]["product_url"].format(n=product), "target_price": "60.00",
        "currency": "EUR"}, token)
    assert status == 201, item
    status, queued = local.request("POST", f"/v1/items/{item['id']}/check", None, token)
    assert status == 202, queued

    def mails() -> list[dict[str, Any]]:
        with urllib.request.urlopen(
                f"http://127.0.0.1:{local.env['LOCALCLOUD_PORT']}/localcloud/ses/messages",
                timeout=10) as answer:
            return [m for m in json.load(answer)["messages"] if m["destinations"] == [email]]
    (mail,) = until("the alert e-mail", mails, timeout=180, every=1)
    assert mail["source"] == "alerts@autobuyguard.store" and "55.50" in mail["subject"], mail


def test_a_person_uses_the_web_app_at_web_url_in_chromium(local: Local) -> None:
    """The browser flow of tests/app/support/web_flow.py (the in-process e2e's steps) against
    the twin: the app from the distribution at web_url, /v1/* through the edge and the
    balancer to the instance's API, the instance's worker checking the twin's demo shop and
    e-mailing through SES, Checkout at the Stripe stand-in (pro, then ultra), the auto-buy
    order its worker creates confirmed in the Orders page. Screenshots (desktop and phone)
    to AUTOBUY_SCREENSHOTS_DIR when set (docs/screenshots), else the state directory."""
    playwright_sync = pytest.importorskip("playwright.sync_api")
    from tests.app.support import web_flow

    cloud = f"http://127.0.0.1:{local.env['LOCALCLOUD_PORT']}"
    email, product = "twin.web@example.com", 3
    status, signed_in = local.request("POST", "/v1/auth/dev", {"email": email})
    assert status == 200, signed_in
    token = signed_in["access_token"]  # the same person, for the check-now the test asks for

    def check(item_id: str, _user_id: str) -> None:
        def points() -> int:
            status, history = local.request("GET", f"/v1/items/{item_id}/history", None, token)
            assert status == 200, history
            return len(history["items"])
        before = points()
        status, queued = local.request("POST", f"/v1/items/{item_id}/check", None, token)
        assert status == 202, queued
        until("the instance's worker to check the item", lambda: points() > before,
              timeout=180, every=1)

    def mails() -> list[dict[str, Any]]:
        def mine() -> list[dict[str, Any]]:
            with urllib.request.urlopen(cloud + "/localcloud/ses/messages", timeout=10) as answer:
                return [m for m in json.load(answer)["messages"] if m["destinations"] == [email]]
        return until("the alert e-mail", mine, timeout=60, every=1)

    shots = Path(os.environ.get("AUTOBUY_SCREENSHOTS_DIR") or local.state / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    site = web_flow.Site(
        url=local.twin["web_url"].rstrip("/"), email=email, sender="alerts@autobuyguard.store",
        product_url=local.twin["demo_shop"]["product_url"].format(n=product), check=check,
        set_price=lambda price: _set_price(local.twin["demo_shop"]["admin_url"], product, price),
        mails=mails, stripe_delivered=web_flow.stripe_delivered(cloud + "/stripe/v1/events", "sk_test_twin"))
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("AUTOBUY_CHROMIUM", "/usr/bin/chromium"),
                                    args=web_flow.CHROMIUM_ARGS)
        # the twin's CA signs web_url's certificate; Chromium has its own trust store
        desktop = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US",
                                      ignore_https_errors=True)
        web_flow.run(desktop.new_page(), playwright_sync.expect, site, shots, delivery_timeout=90)
        browser.close()


def test_a_url_outside_the_twins_demo_shop_is_refused(local: Local) -> None:
    status, signed_in = local.request("POST", "/v1/auth/dev", {"email": "twin.guard@example.com"})
    assert status == 200, signed_in
    status, refused = local.request("POST", "/v1/items", {
        "url": "http://registry.twin.internal:8000/p/1", "target_price": "1.00",
        "currency": "EUR"}, signed_in["access_token"])
    assert status == 422, refused  # the URL guard: a local name off the allowlist


def test_app_container_killed_under_load_the_balancer_routes_around_it(local: Local) -> None:
    from tests.app.support.twin_drill import Twin, run_app_kill

    twin = Twin(local.state / "twin.json", int(local.env["LOCALCLOUD_PORT"]))
    figures = run_app_kill(twin, how="docker-kill")
    print(json.dumps(figures, indent=1))  # the figures, with -s (bench/faults.py prints them)
    events = figures["events"]
    # HAProxy's check on the twin: 1 s interval (scaled, floor), 2 s timeout, 3 failures
    assert "target_out" in events and events["target_out"] < 20, figures
    assert figures["recovered"], figures  # 2 healthy targets again (restarted or replaced)
    assert figures["failed_after_target_out"] == 0, figures  # routed around it from then on
    assert figures["after_recovery"]["count"] > 0, figures
    assert set(figures["after_recovery"]["codes"]) <= {"200", "201", "403", "429"}, figures
    writes = figures["writes"]
    assert writes["users_lost"] == 0 and writes["items_lost"] == 0, writes


def test_a_release_rolls_three_instances_with_no_failed_request(local: Local) -> None:
    from tests.app.support.twin_drill import Twin
    from tests.app.support.twin_release import run_release

    port = int(local.env["LOCALCLOUD_PORT"])
    figures = run_release(Twin(local.state / "twin.json", port), port)
    print(json.dumps({k: v for k, v in figures.items() if k != "release_output"}, indent=1))
    assert figures["release_rc"] == 0, figures["release_output"]
    assert figures["refresh_status"] == "Successful", figures
    during = figures["during_refresh"]
    assert during["count"] >= 2000, figures  # the floor: 20 req/s over the refresh
    assert figures["failed"] == 0, figures  # no connection error, no 5xx, before/during/after
    assert set(during["codes"]) <= {"200", "201", "403", "429"}, figures
    new_version = figures["group_version_after"]
    assert int(new_version) > int(figures["group_version_before"]), figures
    assert set(figures["instance_versions_after"].values()) == {new_version}, figures
    assert len(figures["instance_versions_after"]) == 3, figures
    assert figures["kept_sign_in_works"], figures


def test_a_broken_release_is_rolled_back_by_the_health_checks(local: Local) -> None:
    from tests.app.support.twin_drill import Twin
    from tests.app.support.twin_release import run_release

    port = int(local.env["LOCALCLOUD_PORT"])
    figures = run_release(Twin(local.state / "twin.json", port), port, broken=True)
    print(json.dumps({k: v for k, v in figures.items() if k != "release_output"}, indent=1))
    output = " ".join(figures["release_output"].split())  # the YAML callback wraps lines
    assert figures["release_rc"] != 0, output[-3000:]
    assert figures["refresh_status"] == "RollbackSuccessful", figures
    # make release names the instance and the target group's health reason
    named = re.search(r"instance (i-[0-9a-f]+) did not become healthy: target group \S+ "
                      r"reports it unhealthy \((Target\.\w+|Elb\.\w+): ", output)
    assert named, output[-3000:]
    assert named.group(1) not in figures["instance_versions_after"], figures  # replaced
    assert figures["group_version_after"] == figures["group_version_before"], figures
    assert figures["failed"] == 0, figures  # the old version served throughout
    assert figures["kept_sign_in_works"], figures


def test_an_in_place_release_updates_the_running_instances_without_a_failed_request(
        local: Local) -> None:
    from tests.app.support.twin_drill import Twin
    from tests.app.support.twin_release import run_in_place_release

    port = int(local.env["LOCALCLOUD_PORT"])
    figures = run_in_place_release(Twin(local.state / "twin.json", port), port)
    print(json.dumps({k: v for k, v in figures.items() if k != "release_output"}, indent=1))
    assert figures["release_rc"] == 0, figures["release_output"][-4000:]
    assert figures["tag"], figures["release_output"][-2000:]
    # The same instances, updated where they run: no refresh, no replacement.
    assert figures["instances_after"] == figures["instances_before"], figures
    assert figures["group_version_after"] == figures["group_version_before"], figures
    assert {image.rpartition(":")[2] for image in figures["serving_images"].values()} \
        == {figures["tag"]}, figures
    # The role wrote the twin's settings, as the user data had (playbooks/vars/app_settings.yml).
    for settings in figures["settings"].values():
        assert settings == {"AUTOBUY_ENV": "development", "AUTOBUY_DEV_SIGNIN": "true",
                            "AUTOBUY_STRIPE_API_URL": "https://stripe.twin.internal/stripe"}
    # One instance at a time out of the target group while its container is swapped.
    assert figures["requests"] > 0 and figures["failed"] == 0, figures
    assert figures["kept_sign_in_works"], figures


def test_localcloud_stop_leaves_nothing_of_the_twin(local: Local) -> None:
    with urllib.request.urlopen(
            f"http://127.0.0.1:{local.env['LOCALCLOUD_PORT']}/localcloud/twin", timeout=10) as a:
        owner = json.load(a)["network"].removeprefix("localcloud-")
    assert _owned(owner)["container"]  # the twin runs ...
    stopped = _make("localcloud-stop", local.env, timeout=120)
    assert stopped.returncode == 0, stopped.stderr
    assert _owned(owner) == {"container": [], "network": [], "volume": []}  # ... and is gone
