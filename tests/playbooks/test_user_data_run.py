"""The instance user data and roles/app run the same containers with the same settings.

The user data is rendered the way playbooks/compute.yml renders it (playbooks/tasks/
user_data.yml, through tests/playbooks/playbooks/render_user_data.yml, no cloud needed);
its `docker run` lines are parsed back into docker_container options and compared with the
role's container settings (__app_run_common / __app_run, roles/app/vars/main.yml) that it was
rendered from, and which the role's own docker_container tasks take their options from.
"""
from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from provision_helpers import BIN, INVENTORY, ROOT, playbook_env

PLAYBOOK = ROOT / "tests" / "playbooks" / "playbooks" / "render_user_data.yml"
ENDPOINT = "http://127.0.0.1:5999"
CONTAINERS = ("migrate", "api", "worker")


def _render(out: Path, inventory: Path, extra: dict[str, Any]) -> str:
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), str(PLAYBOOK), "-i", str(inventory),
         "-e", json.dumps({**extra, "render_out": str(out)})],
        cwd=ROOT, env=playbook_env(), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return (out / "user_data.sh").read_text()


def _env_lines(user_data: str) -> tuple[dict[str, str], list[str]]:
    """The env file's settings the user data writes as rendered (``printf '%s\\n' NAME=value``),
    and the names the jq program adds at boot."""
    fixed = {}
    for line in user_data.splitlines():
        if line.strip().startswith("printf '%s\\n' ") and "=" in line and "$" not in line.split("=")[0]:
            name, _, value = shlex.split(line.strip())[2].partition("=")
            fixed[name] = value
    at_boot = re.findall(r'^\s+"(AUTOBUY_[A-Z_]+)=\\\(', user_data, re.M)
    return fixed, at_boot


def test_aws_defaults_keep_development_sign_in_off_and_call_stripe_itself(
        tmp_path: Path, rendered: tuple[str, dict[str, Any]]) -> None:
    """On AWS (the aws inventory, no endpoint) the instances get no development sign-in, no
    private shop past the URL guard, Stripe's own API, and Checkout back to the site; the
    twin (the local inventory, `rendered`) gets the dev sign-in, the demo shop and the
    Stripe stand-in by its twin network name."""
    aws, _ = _env_lines(_render(tmp_path, ROOT / "inventories" / "aws" / "hosts.yml", {}))
    assert aws["AUTOBUY_DEV_SIGNIN"] == "false" and aws["AUTOBUY_URL_ALLOW_HOSTS"] == "[]"
    assert aws["AUTOBUY_STRIPE_API_URL"] == "https://api.stripe.com"
    assert aws["AUTOBUY_CHECKOUT_SUCCESS_URL"] == "https://autobuyguard.store/account?checkout=success"
    assert aws["AUTOBUY_ENV"] == "production"
    twin, _ = _env_lines(rendered[0])
    assert twin["AUTOBUY_DEV_SIGNIN"] == "true"
    assert twin["AUTOBUY_URL_ALLOW_HOSTS"] == '["demo-shop.twin.internal:8000"]'
    assert twin["AUTOBUY_STRIPE_API_URL"] == "https://stripe.twin.internal/stripe"
    assert twin["AUTOBUY_ENV"] == "development"
    assert twin["AUTOBUY_CHECKOUT_CANCEL_URL"].endswith("/account?checkout=cancelled")


def test_the_env_file_has_the_role_settings_and_every_name_once(rendered) -> None:
    """The user data writes the role's settings that are no secret as rendered (an in-place
    deploy writes the same), and adds the secrets, the tables and the queue at boot: every
    name of the role's env file, once."""
    script, settings = rendered
    fixed, at_boot = _env_lines(script)
    role_env = settings["settings_env"]
    assert fixed == {k: str(v) for k, v in role_env.items()
                     if k not in ("AUTOBUY_TABLE_NAMES", "AUTOBUY_CHECKS_QUEUE_URL")}
    role_vars = yaml.safe_load((ROOT / "roles" / "app" / "vars" / "main.yml").read_text())
    every = set(role_vars["__app_settings_env"]) | set(role_vars["__app_secret_env"])
    names = list(fixed) + at_boot
    assert sorted(names) == sorted(every) and len(names) == len(set(names))


def test_the_in_place_deploy_takes_the_same_settings() -> None:
    """deploy.yml's in-place play loads the settings file the user data loads and sets none
    of its names itself (it adds only what a deploy knows: the release's image, topic, queue)."""
    shared = set(yaml.safe_load((ROOT / "playbooks" / "vars" / "app_settings.yml").read_text()))
    plays = yaml.safe_load((ROOT / "playbooks" / "deploy.yml").read_text())
    (play,) = [p for p in plays if p.get("name") == "Deploy in place on the group's instances"]
    assert play["vars_files"] == ["vars/app_settings.yml"]
    (app,) = [r for r in play["roles"] if r["role"] == "autobuy.guard.app"]
    assert shared.isdisjoint(set(app["vars"]) - {"app_sns_topic_arn"}), set(app["vars"]) & shared
    tasks = yaml.safe_load((ROOT / "playbooks" / "tasks" / "user_data.yml").read_text())
    assert tasks[0]["ansible.builtin.include_vars"] == {"file": "../vars/app_settings.yml"}
    assert "vars" not in tasks[1]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("user_data")
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), str(PLAYBOOK), "-i", str(INVENTORY),
         "-e", json.dumps({"aws_endpoint_url": ENDPOINT, "autobuy_instance_endpoint_url": ENDPOINT,
                           "render_out": str(out)})],
        cwd=ROOT, env=playbook_env(), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return (out / "user_data.sh").read_text(), json.loads((out / "role_settings.json").read_text())


def parse_docker_run(argv: list[str]) -> dict[str, Any]:
    """`docker run ...` back into docker_container options; an unknown flag fails the test."""
    assert argv[:2] == ["docker", "run"], argv
    opts: dict[str, Any] = {"tmpfs": [], "cap_drop": [], "security_opts": [], "env": {},
                            "published_ports": [], "log_options": {}, "labels": {}, "volumes": [],
                            "restart_policy": "no", "read_only": False, "user": "",
                            "rm": False, "detach": False}
    health: dict[str, Any] = {}
    args = iter(argv[2:])
    for arg in args:
        if not arg.startswith("--"):
            opts["image"] = arg
            opts["command"] = list(args)
            break
        flag = arg[2:]
        if flag in ("rm", "detach", "read-only"):
            opts[flag.replace("-", "_")] = True
        elif flag == "no-healthcheck":
            health = {"test": ["NONE"]}
        else:
            value = next(args)
            key, _, val = value.partition("=")
            match flag:
                case "name" | "user" | "env-file" | "log-driver":
                    opts[flag.replace("-", "_")] = value
                case "restart":
                    opts["restart_policy"] = value
                case "tmpfs" | "cap-drop":
                    opts[flag.replace("-", "_")].append(value)
                case "security-opt":
                    opts["security_opts"].append(value)
                case "publish":
                    opts["published_ports"].append(value)
                case "volume":
                    opts["volumes"].append(value)
                case "env":
                    opts["env"][key] = val
                case "log-opt":
                    opts["log_options"][key] = val
                case "label":
                    opts["labels"][key] = val
                case "stop-timeout":
                    opts["stop_timeout"] = int(value)
                case "health-cmd":
                    health["test"] = ["CMD", *shlex.split(value)]
                case "health-retries":
                    health["retries"] = int(value)
                case "health-interval" | "health-timeout" | "health-start-period":
                    health[flag.removeprefix("health-").replace("-", "_")] = value
                case _:
                    pytest.fail(f"flag --{flag} has no counterpart in the role's settings")
    opts["healthcheck"] = health
    return opts


def docker_runs(script: str) -> list[dict[str, Any]]:
    body = script[script.index("autobuy_run_containers() {"):]
    body = body[:body.index("\n}\n")]
    return [parse_docker_run(shlex.split(line)) for line in body.splitlines()
            if line.strip().startswith("docker run ")]


def expected(settings: dict[str, Any], which: str) -> dict[str, Any]:
    spec = {"published_ports": [], **settings["common"], **settings["run"][which]}
    spec["env"] = {**settings["common"]["env"], **settings["run"][which].get("env", {})}
    spec["read_only"] = bool(spec["read_only"])
    spec["env"] = {k: str(v) for k, v in spec["env"].items()}
    if "stop_timeout" in spec:
        spec["stop_timeout"] = int(spec["stop_timeout"])
    health = dict(spec["healthcheck"])
    if "retries" in health:
        health["retries"] = int(health["retries"])
    spec["healthcheck"] = health
    return spec


def test_user_data_runs_migration_then_api_and_worker_with_the_role_settings(rendered) -> None:
    script, settings = rendered
    runs = docker_runs(script)
    assert [r["name"] for r in runs] == [settings["run"][c]["name"] for c in CONTAINERS]
    for which, run in zip(CONTAINERS, runs, strict=True):
        want = expected(settings, which)
        assert run["image"] == "$image"
        got = {k: run[k] for k in want}
        assert got == want, which
    migrate, api, worker = runs
    # The migration is one-shot and in the foreground: under `set -e` a failed migration
    # stops the boot before the new version serves.
    assert migrate["rm"] and not migrate["detach"]
    assert migrate["command"] == ["python", "-m", "autobuy.migrate", "upgrade", "head"]
    assert api["detach"] and worker["detach"]
    assert worker["command"] == ["python", "-m", "autobuy.engine.worker"]
    assert re.search(r"^set -euo pipefail$", script, re.M)
    assert script.index("autobuy_run_containers \"$IMAGE\"") > script.index("docker pull \"$IMAGE\"")


def test_hardening_and_logs_are_the_instance_ones(rendered) -> None:
    script, settings = rendered
    common = settings["common"]
    assert common["read_only"] is True and common["cap_drop"] == ["ALL"]
    assert common["security_opts"] == ["no-new-privileges"]
    # The containers trust what the machine trusts (on the twin: its CA) for AWS calls and
    # their other HTTPS calls (httpx reads SSL_CERT_FILE: Stripe, the purchase webhook).
    assert common["volumes"] == ["/etc/ssl/certs/ca-certificates.crt:/etc/autobuy/ca-certificates.crt:ro"]
    # The same trust store verifies MySQL's certificate; the app re-reads its secrets.
    assert common["env"] == {"AWS_CA_BUNDLE": "/etc/autobuy/ca-certificates.crt",
                             "SSL_CERT_FILE": "/etc/autobuy/ca-certificates.crt",
                             "AUTOBUY_DB_TLS_CA": "/etc/autobuy/ca-certificates.crt",
                             "AUTOBUY_DB_SECRET_ID": "taskapp/database",
                             "AUTOBUY_APP_SECRET_ID": "taskapp/app"}
    assert common["log_driver"] == "awslogs"
    assert common["log_options"] == {
        "awslogs-region": "eu-central-1", "awslogs-group": "/autobuy/taskapp-backend",
        "awslogs-create-group": "false", "awslogs-endpoint": ENDPOINT}
    # The env file the user data writes (0600) is the one the containers read.
    env_dir = re.search(r"^ENV_DIR=(\S+)$", script, re.M).group(1)
    env_file = re.search(r'^ENV_FILE="\$ENV_DIR/(\S+)"$', script, re.M).group(1)
    assert f"{env_dir}/{env_file}" == common["env_file"]
    assert "--publish 0.0.0.0:80:5000" in script
    assert subprocess.run(["bash", "-n"], input=script, text=True, check=False).returncode == 0


@pytest.mark.parametrize(("task_file", "which"), [("container.yml", "api"), ("worker.yml", "worker")])
def test_role_tasks_take_their_options_from_the_same_settings(task_file: str, which: str) -> None:
    (task,) = yaml.safe_load((ROOT / "roles" / "app" / "tasks" / task_file).read_text())
    args = task["community.docker.docker_container"]
    for option in ("user", "read_only", "tmpfs", "cap_drop", "security_opts", "env_file",
                   "volumes", "env", "log_driver", "log_options"):
        assert f"__app_run_common.{option}" in str(args[option]), (task_file, option)
    for option in ("healthcheck", "labels"):
        assert f"__app_run.{which}.{option}" in str(args[option]), (task_file, option)


def _install_step(script: str) -> str:
    """The user data's package step: from the list of what is missing to Docker's start."""
    start = script.index("MISSING=()")
    end = script.index("systemctl restart docker", start)
    return script[start:end] + "systemctl restart docker\n"


@pytest.mark.parametrize(("present", "installed"), [
    ((), "docker.io awscli jq curl"),            # a bare Debian 12 AMI
    (("docker", "curl"), "awscli jq"),
    (("docker", "aws", "jq", "curl"), None),     # the golden AMI: apt is not run at all
])
def test_user_data_installs_only_what_the_ami_lacks(
        rendered: tuple[str, dict[str, Any]], tmp_path: Path,
        present: tuple[str, ...], installed: str | None) -> None:
    script, _ = rendered
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    for command in (*present, "apt-get", "systemctl"):
        stub = bin_dir / command
        stub.write_text(f'#!/bin/bash\necho "{command} $*" >> {calls}\n')
        stub.chmod(0o755)
    done = subprocess.run(["/bin/bash", "-euo", "pipefail", "-c", _install_step(script)],
                          env={"PATH": str(bin_dir)}, capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    lines = calls.read_text().splitlines()
    assert lines[-2:] == ["systemctl enable docker", "systemctl restart docker"]
    apt = [line for line in lines if line.startswith("apt-get")]
    if installed is None:
        assert apt == [] and "preinstalled" in done.stdout
    else:
        assert apt == ["apt-get update -q", f"apt-get install -y -q {installed}"]


def test_docker_starts_with_the_docker_role_daemon_configuration(rendered) -> None:
    """The instance's dockerd starts with the configuration the role autobuy.guard.docker
    writes (an in-place deploy then finds nothing to change), live-restore on: a later
    dockerd restart keeps the app's containers serving."""
    script, _ = rendered
    body = re.search(r"^cat > /etc/docker/daemon\.json <<'DAEMON_JSON'\n(.*?)\nDAEMON_JSON$",
                     script, re.M | re.S).group(1)
    config = json.loads(body)
    assert config["live-restore"] is True and config["log-driver"] == "json-file"
    assert body == body.strip() and not body.endswith("\n")
    assert script.index("DAEMON_JSON\n") < script.index("MISSING=()") < script.index("systemctl restart docker")
    assert script.index("systemctl restart docker") < script.index("autobuy_run_containers \"$IMAGE\"")
