"""`--check` before the first converge: on a cloud where the stack does not exist yet, a check
run stops at the network tier with one message saying what --check previews and to run without
it first, instead of a module error at the subnets; it changes nothing. Once the network exists
the guard lets the check run through. (--check on the whole converged stack:
test_provisioning_stack.py.)"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from provision_helpers import changed_tasks, client, private_cloud, run_playbook, web_extra

pytestmark = [pytest.mark.slow, pytest.mark.playbook, pytest.mark.localcloud]

GUARD_TASK = "TASK [Require a created stack for a check run]"
MESSAGE = "does not exist yet in eu-central-1"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with private_cloud(tmp_path_factory.mktemp("check") / "localcloud.log") as url:
        yield url


def _vpcs(url: str) -> list[str]:
    return sorted(v["VpcId"] for v in client("ec2", url).describe_vpcs()["Vpcs"])


def _failures(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("fatal:", "failed:"))]


@pytest.mark.parametrize("playbook", ["site.yml", "playbooks/network.yml"])
def test_check_on_an_empty_cloud_stops_with_one_message_and_changes_nothing(
        cloud: str, playbook: str, tmp_path) -> None:
    before = _vpcs(cloud)
    run = run_playbook(playbook, cloud, "--check", "--diff", extra=web_extra(tmp_path))
    assert run.returncode != 0, run.output[-4000:]
    assert run.recap["failed"] == 1 and run.recap["changed"] == 0, run.output[-4000:]
    # The one failure is the guard's, before the first task that would create anything.
    assert len(_failures(run.output)) == 1, run.output[-4000:]
    assert run.output.index(GUARD_TASK) < run.output.index(_failures(run.output)[0])
    assert "TASK [Create the VPC]" not in run.output
    assert MESSAGE in run.output and "without --check" in run.output, run.output[-4000:]
    assert "Finalization of task args" not in run.output
    assert _vpcs(cloud) == before


def test_check_goes_past_the_guard_once_the_network_exists(cloud: str) -> None:
    first = run_playbook("playbooks/network.yml", cloud)
    assert first.returncode == 0, first.output[-4000:]
    check = run_playbook("playbooks/network.yml", cloud, "--check", "--diff")
    assert check.returncode == 0, check.output[-4000:]
    assert check.recap["changed"] == 0, changed_tasks(check.output)
    assert "TASK [Create the VPC]" in check.output and MESSAGE not in check.output
