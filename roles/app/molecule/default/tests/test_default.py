"""Checks of roles/app on a converged instance (molecule's testinfra verifier).

At this point side_effect.yml has tried a broken release (rolled back) and
deployed v2 with an image retention of 1.
"""

from __future__ import annotations

import json
import os
import shlex
import time
from pathlib import Path

import boto3

testinfra_hosts = ["ansible://instances"]

NAME = "taskapp-backend"
ENV_FILE = "/etc/autobuy/taskapp-backend.env"
SECRETS = (
    "molecule-db-password-7f3a", "molecule-jwt-signing-key-0b9c2d",
    "sk_test_molecule_5b1e", "whsec_molecule_93d0",
)
SETTINGS = (
    "AUTOBUY_ENV", "AUTOBUY_DB_HOST", "AUTOBUY_DB_PORT", "AUTOBUY_DB_USER",
    "AUTOBUY_DB_PASSWORD", "AUTOBUY_DB_NAME", "AUTOBUY_JWT_SIGNING_KEY",
    "AUTOBUY_GOOGLE_CLIENT_ID", "AUTOBUY_STRIPE_SECRET_KEY",
    "AUTOBUY_STRIPE_WEBHOOK_SECRET", "AUTOBUY_AWS_REGION", "AUTOBUY_AWS_ENDPOINT_URL",
    "AUTOBUY_TABLE_PREFIX", "AUTOBUY_TABLE_NAMES", "AUTOBUY_SNS_TOPIC_ARN", "AUTOBUY_CHECKS_QUEUE_URL",
    "AUTOBUY_DEV_SIGNIN", "AUTOBUY_CORS_ORIGIN", "AUTOBUY_STRIPE_API_URL",
    "AUTOBUY_CHECKOUT_SUCCESS_URL", "AUTOBUY_CHECKOUT_CANCEL_URL", "AUTOBUY_SES_FROM",
    "AUTOBUY_URL_ALLOW_HOSTS",
)


def inspect(host, name: str = NAME) -> dict:
    with host.sudo():
        return json.loads(host.check_output(f"docker inspect {name}"))[0]


def health(host, port: int = 80) -> tuple[int, dict]:
    """GET /health from inside the instance; (status, body) or (0, {})."""
    script = (
        "import json, urllib.request as u\n"
        "try:\n"
        f"    r = u.urlopen('http://127.0.0.1:{port}/health', timeout=3)\n"
        "    print(r.status, r.read().decode())\n"
        "except Exception as e:\n"
        "    print(getattr(e, 'code', 0), '{}')\n"
    )
    out = host.check_output(f"python3 -c {shlex.quote(script)}")
    status, _, body = out.partition(" ")
    return int(status), json.loads(body or "{}")


def wait_healthy(host, seconds: float = 40) -> tuple[int, dict]:
    deadline = time.monotonic() + seconds
    result = (0, {})
    while time.monotonic() < deadline:
        result = health(host)
        if result[0] == 200:
            return result
        time.sleep(1)
    return result


def test_health_200_on_port_80(host) -> None:
    status, body = wait_healthy(host)
    assert status == 200
    assert body["status"] and "timestamp" in body and "uptime" in body


def test_serving_v2_after_rolled_back_broken_release(host) -> None:
    container = inspect(host)
    assert container["Config"]["Labels"].get("org.autobuy.molecule") == "v2"
    assert container["State"]["Running"]
    # The failed candidate is gone too (replaced by the v2 candidate, removed).
    with host.sudo():
        assert host.run(f"docker inspect {NAME}-candidate").rc != 0


def test_runs_as_non_root_read_only_without_capabilities(host) -> None:
    container = inspect(host)
    with host.sudo():
        uid = host.check_output(f"docker exec {NAME} id -u")
    assert uid != "0"
    assert container["HostConfig"]["ReadonlyRootfs"] is True
    assert container["HostConfig"]["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in container["HostConfig"]["SecurityOpt"]
    assert container["HostConfig"]["PortBindings"]["5000/tcp"][0]["HostPort"] == "80"
    assert container["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert container["HostConfig"]["LogConfig"] == {
        "Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"},
    }
    assert container["Config"]["Healthcheck"]["Test"][0] == "CMD"


def test_env_file_root_only_with_exactly_the_app_settings(host) -> None:
    env_file = host.file(ENV_FILE)
    assert env_file.user == "root" and env_file.group == "root"
    assert env_file.mode == 0o600
    assert host.file("/etc/autobuy").mode == 0o700
    with host.sudo():
        content = env_file.content_string
    names = {line.split("=", 1)[0] for line in content.splitlines()
             if line and not line.startswith("#")}
    assert names == set(SETTINGS)
    # The container got them (the env file mechanism), with the values read
    # from the local Secrets Manager (non-secret fields compared here).
    env = dict(e.split("=", 1) for e in inspect(host)["Config"]["Env"])
    assert set(SETTINGS) <= set(env)
    assert env["AUTOBUY_DB_HOST"] == "db.molecule.invalid"
    assert env["AUTOBUY_GOOGLE_CLIENT_ID"] == "molecule.apps.googleusercontent.com"
    assert env["AUTOBUY_ENV"] == "development"
    assert env["AUTOBUY_DEV_SIGNIN"] == "false"


def test_no_secret_on_a_command_line(host) -> None:
    container = inspect(host)
    argv = json.dumps([container["Path"], container["Args"], container["Config"]["Cmd"],
                       container["Config"]["Entrypoint"]])
    with host.sudo():
        processes = host.check_output("ps -eo args")
    for secret in SECRETS:
        assert secret not in argv
        assert secret not in processes


def test_old_images_pruned(host) -> None:
    with host.sudo():
        tags = host.check_output(
            "docker image ls registry:5000/taskapp-backend --format '{{.Tag}}'"
        ).split()
    assert tags == ["v2"]


def test_restarts_after_being_killed(host) -> None:
    before = inspect(host)
    with host.sudo():
        host.check_output(f"kill -9 {before['State']['Pid']}")
    deadline = time.monotonic() + 30
    after = before
    while time.monotonic() < deadline:
        after = inspect(host)
        if after["RestartCount"] > before["RestartCount"] and after["State"]["Running"]:
            break
        time.sleep(0.5)
    assert after["RestartCount"] == before["RestartCount"] + 1
    assert after["State"]["Pid"] != before["State"]["Pid"]
    status, _ = wait_healthy(host)
    assert status == 200


WORKER = "taskapp-worker"


def wait_steady(host, seconds: float = 5, within: float = 40) -> dict:
    """The worker's state once it has been running `seconds` without a restart."""
    deadline = time.monotonic() + within
    container = inspect(host, WORKER)
    while time.monotonic() < deadline:
        container = inspect(host, WORKER)
        state = container["State"]
        if state["Running"] and not state["Restarting"]:
            time.sleep(seconds)
            again = inspect(host, WORKER)
            if (again["State"]["Running"]
                    and again["State"]["StartedAt"] == state["StartedAt"]):
                return again
        time.sleep(0.5)
    return container


def test_worker_runs_beside_the_api_on_the_same_image(host) -> None:
    worker, api = wait_steady(host), inspect(host)
    assert worker["State"]["Running"], worker["State"]
    assert worker["Image"] == api["Image"]
    assert worker["Config"]["Labels"].get("org.autobuy.molecule") == "v2"
    assert worker["Config"]["Cmd"] == ["python", "-m", "autobuy.engine.worker"]
    # No crash loop: the v2 worker has not restarted on its own.
    assert worker["RestartCount"] == 0


def test_worker_hardened_without_a_port(host) -> None:
    worker = inspect(host, WORKER)
    with host.sudo():
        uid = host.check_output(f"docker exec {WORKER} id -u")
    assert uid != "0"
    config = worker["HostConfig"]
    assert config["ReadonlyRootfs"] is True
    assert config["Tmpfs"] == inspect(host)["HostConfig"]["Tmpfs"]
    assert config["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in config["SecurityOpt"]
    assert config["RestartPolicy"]["Name"] == "unless-stopped"
    assert config["LogConfig"] == {
        "Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"},
    }
    assert not config["PortBindings"]
    assert worker["Config"]["StopTimeout"] >= 35
    assert worker["Config"]["Healthcheck"]["Test"] == ["NONE"]


def test_worker_has_the_env_file_and_a_reachable_queue(host) -> None:
    env = dict(e.split("=", 1) for e in inspect(host, WORKER)["Config"]["Env"])
    assert set(SETTINGS) <= set(env)
    assert env["AUTOBUY_DB_HOST"] == "db.molecule.invalid"
    assert env["AUTOBUY_CHECKS_QUEUE_URL"].endswith("/autobuy-checks")
    with host.sudo():
        logs = host.run(f"docker logs {WORKER}")
    # Receiving works: no invalid settings, no failed connection to SQS.
    output = logs.stdout + logs.stderr
    assert "invalid settings" not in output
    assert "Traceback" not in output, output[-2000:]
    # ... and consuming works: a check message sent to the queue is received, checked
    # (an unknown item: looked up in DynamoDB and skipped) and deleted by the worker.
    wait_steady(host)
    ephemeral = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
    queue_url = (ephemeral / "checks-queue-url").read_text().strip()
    sqs = boto3.client("sqs", endpoint_url=(ephemeral / "aws-endpoint").read_text().strip(),
                       region_name="eu-central-1", aws_access_key_id="molecule",
                       aws_secret_access_key="molecule")
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(
        {"itemId": "molecule-item", "userId": "molecule-user", "reason": "manual"}))
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.monotonic() + 60
    while True:
        left = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
        if set(left.values()) == {"0"}:
            break
        assert time.monotonic() < deadline, f"the worker did not consume the message: {left}"
        time.sleep(0.5)


def test_worker_restarts_after_being_killed(host) -> None:
    before = wait_steady(host)
    with host.sudo():
        host.check_output(f"kill -9 {before['State']['Pid']}")
    deadline = time.monotonic() + 30
    after = before
    while time.monotonic() < deadline:
        after = inspect(host, WORKER)
        if after["RestartCount"] > before["RestartCount"] and after["State"]["Running"]:
            break
        time.sleep(0.5)
    assert after["RestartCount"] == before["RestartCount"] + 1
    assert after["State"]["Pid"] != before["State"]["Pid"]
    steady = wait_steady(host)
    assert steady["State"]["Running"]
    assert steady["RestartCount"] == before["RestartCount"] + 1


def test_worker_stops_gracefully(host) -> None:
    """SIGTERM drains and exits 0 well within the stop timeout (no SIGKILL)."""
    with host.sudo():
        started = time.monotonic()
        host.check_output(f"docker stop {WORKER}")
        took = time.monotonic() - started
        state = inspect(host, WORKER)["State"]
        host.check_output(f"docker start {WORKER}")
    assert state["ExitCode"] == 0, state
    assert took < 35
    assert wait_steady(host)["State"]["Running"]
