"""EC2: instances are machines that boot (``LOCALCLOUD_INSTANCES=containers``).

Each EC2 instance the local cloud launches (RunInstances, an Auto Scaling group, an
instance refresh, a replacement) gets a systemd container ``localcloud-<instance-id>``
of the docker image its AMI maps to (``LOCALCLOUD_AMI_IMAGES``, by AMI name; or
``LOCALCLOUD_INSTANCE_IMAGE`` for every AMI), and the instance carries the tag
``localcloud:container`` = that name, so Ansible can reach the "instance" with the
``community.docker.docker`` connection. An AMI that maps to no image leaves the instance
a record (the server's log says so).

Boot: the container gets a NoCloud seed, read-only at ``/var/lib/cloud/seed/nocloud``:
``meta-data`` with ``instance-id`` and ``local-hostname``, ``user-data`` = the user data
the instance was launched with (RunInstances' own, else the launch template version's).
The image's cloud-init (``images/ami``) runs it at boot as EC2 does; its output lands in
``/var/log/cloud-init-output.log``, which ``GetConsoleOutput`` answers (base64, the last
64 KiB, as EC2's console output).

CreateImage of a container instance snapshots its container (``docker commit``, the way
EC2 snapshots the root volume): the new AMI is ``pending`` until the commit is done, then
``available``, and an instance launched from it boots a container of that image
(``localcloud-ami:<ami-id>``; DeregisterImage and the server's exit remove it). The
anonymous ``/var/lib/docker`` volume and the mounts (seed, ``/etc/hosts``) are not part of
the image, as instance-store data is not part of an AMI.

Stop/start/terminate stop, start and remove the container. A container that exits while
its instance is ``pending``/``running`` (``docker kill``: the machine died) is noticed
through ``docker events``: the instance goes ``stopped`` with state reason
``Server.InternalError``, and if it belongs to an Auto Scaling group (whose
``ReplaceUnhealthy`` process is not suspended) it is marked ``Unhealthy``, terminated and
replaced, as EC2 health checks make AWS do.

Docker is driven by one worker thread, so API calls do not wait for it; the server
removes its containers (and their seeds) when it exits. The containers run with the
capability set that runs systemd and a nested dockerd on these machines (no
``--privileged``, see docs/roles.md): every capability but SYS_RESOURCE,
seccomp/apparmor unconfined, the host cgroup namespace, tmpfs on /run and /run/lock,
/sys/fs/cgroup mounted rw, an anonymous volume for /var/lib/docker (overlay2 inside),
and ``/lib/systemd/systemd`` as command.
"""
from __future__ import annotations

import atexit
import base64
import fnmatch
import functools
import io
import json
import os
import queue
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.models.instances import Instance, InstanceBackend
from moto.ec2.responses.general import General
from moto.ec2.utils import Base64EncodedString

from localcloud import settings

TAG = "localcloud:container"
LABEL = "org.autobuy.localcloud"
SEED_PATH = "/var/lib/cloud/seed/nocloud"
CONSOLE_LOG = "/var/log/cloud-init-output.log"
CONSOLE_LIMIT = 64 * 1024  # EC2 returns the most recent 64 KB of console output
# docker run --cap-add ALL --cap-drop SYS_RESOURCE, spelled out (the kernel here withholds
# CAP_SYS_RESOURCE; the same list as the roles' molecule platforms, docs/roles.md).
CAPABILITIES = (
    "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "CHOWN", "DAC_OVERRIDE",
    "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
    "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE",
    "NET_BROADCAST", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYSLOG",
    "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT",
    "SYS_PTRACE", "SYS_RAWIO", "SYS_TIME", "SYS_TTY_CONFIG", "WAKE_ALARM",
)
SYSTEMD_OPTIONS = (
    *(arg for cap in CAPABILITIES for arg in ("--cap-add", cap)),
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--cgroupns=host", "--tmpfs", "/run", "--tmpfs", "/run/lock",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "-v", "/var/lib/docker",
)
LIVE_STATES = frozenset({"pending", "running"})


def container_name(instance_id: str) -> str:
    return f"localcloud-{instance_id}"


def hostname(instance: Instance) -> str:
    """EC2's host name of the instance (``ip-10-0-0-5``), its id when it has none."""
    return (getattr(instance, "private_dns_name", "") or instance.id).split(".")[0]


def user_data(instance: Instance) -> bytes:
    """The user data the instance was launched with (moto keeps RunInstances' own, else the
    launch template version's), decoded; ``b""`` when there is none."""
    value = getattr(instance, "user_data", None)
    if isinstance(value, list):  # older moto kept a list of one value
        value = value[0] if value else None
    if value is None:
        return b""
    if isinstance(value, Base64EncodedString):
        return base64.b64decode(value.as_bytes())
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def meta_data(instance: Instance) -> str:
    """NoCloud ``meta-data``: what cloud-init's EC2 datasource would read from IMDS."""
    return f"instance-id: {instance.id}\nlocal-hostname: {hostname(instance)}\n"


def run_command(image: str, instance: Instance, owner: str, seed: Path | None = None,
                extra: tuple[str, ...] | list[str] = ()) -> list[str]:
    """``docker run`` arguments for an instance's container (``extra``: more options, the
    twin's network and instance services)."""
    mount = ["-v", f"{seed}:{SEED_PATH}:ro"] if seed is not None else []
    return [
        "docker", "run", "-d", "--name", container_name(instance.id),
        "--hostname", hostname(instance), "--label", f"{LABEL}={owner}",
        "--label", f"{LABEL}.instance={instance.id}",
        *SYSTEMD_OPTIONS, *mount, *extra, image, "/lib/systemd/systemd",
    ]


#: AMI id -> docker image, for the AMIs CreateImage made of container instances.
CREATED: dict[str, str] = {}


def created_image_name(ami_id: str) -> str:
    return f"localcloud-ami:{ami_id}"


def image_for(backend: InstanceBackend, instance: Instance) -> str | None:
    """The docker image the instance's AMI boots as; None when it maps to none."""
    if instance.image_id in CREATED:
        return CREATED[instance.image_id]
    override = settings.instance_image()
    if override:
        return override
    ami = backend.amis.get(instance.image_id)
    name = getattr(ami, "name", None) or ""
    for pattern, image in settings.ami_images():
        if name and fnmatch.fnmatchcase(name, pattern):
            return image
    return None


def console_output(name: str) -> str:
    """The end of the container's cloud-init output log ("" while there is none)."""
    result = subprocess.run(["docker", "cp", f"{name}:{CONSOLE_LOG}", "-"],
                            capture_output=True, check=False, timeout=30)
    if result.returncode != 0:
        return ""
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as archive:
        member = archive.next()
        handle = archive.extractfile(member) if member is not None else None
        data = handle.read() if handle is not None else b""
    return data[-CONSOLE_LIMIT:].decode("utf-8", errors="replace")


class Docker:
    """Serialises docker commands in one background thread; owns the instances' seeds."""

    def __init__(self) -> None:
        self.owner = str(os.getpid())
        self.seeds = Path(tempfile.mkdtemp(prefix="localcloud-seeds-"))
        self._queue: queue.Queue[list[str] | Callable[[], Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="localcloud-docker", daemon=True)
        self._thread.start()
        self._watcher: threading.Thread | None = None
        self._events: subprocess.Popen | None = None

    def write_seed(self, instance: Instance) -> Path:
        seed = self.seeds / instance.id
        seed.mkdir(mode=0o755)
        (seed / "meta-data").write_text(meta_data(instance))
        (seed / "user-data").write_bytes(user_data(instance))
        return seed

    def remove_seed(self, instance_id: str) -> None:
        """Remove the seed once the commands submitted before have run."""
        self.submit(lambda: shutil.rmtree(self.seeds / instance_id, ignore_errors=True))

    def submit(self, command: list[str] | Callable[[], Any]) -> None:
        """A docker command line, or a function to call in order with them."""
        self._queue.put(command)

    def _work(self) -> None:
        while True:
            command = self._queue.get()
            if command is None:
                return
            if callable(command):
                command()
                continue
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                print(f"localcloud: {' '.join(command[:3])} failed: {result.stderr.strip()}",
                      file=sys.stderr, flush=True)

    def watch(self, on_die: Callable[[str, str], None]) -> None:
        """Call ``on_die(instance_id, exit_code)`` for every container of this server that
        exits (started once, at the first container)."""
        if self._watcher is not None:
            return
        self._events = subprocess.Popen(
            ["docker", "events", "--filter", f"label={LABEL}={self.owner}",
             "--filter", "type=container", "--filter", "event=die", "--format", "{{json .}}"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        events = self._events

        def read() -> None:
            assert events.stdout is not None
            for line in events.stdout:
                try:
                    attributes = json.loads(line)["Actor"]["Attributes"]
                    instance_id = attributes[f"{LABEL}.instance"]
                except (ValueError, KeyError, TypeError):
                    continue
                try:
                    on_die(instance_id, attributes.get("exitCode", "?"))
                except Exception as exc:  # noqa: BLE001 - the watcher must outlive one bad event
                    print(f"localcloud: handling the exit of {instance_id} failed: {exc!r}",
                          file=sys.stderr, flush=True)

        self._watcher = threading.Thread(target=read, name="localcloud-docker-events",
                                         daemon=True)
        self._watcher.start()

    def cleanup(self) -> None:
        """Remove every container this server started, and the seeds (at exit).

        The seeds go first: gunicorn kills the worker 5 s after SIGTERM, and removing
        containers with a nested dockerd can take longer than that."""
        shutil.rmtree(self.seeds, ignore_errors=True)
        if self._events is not None:
            self._events.terminate()
        self._queue.put(None)
        self._thread.join(timeout=30)
        found = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label={LABEL}={self.owner}"],
            capture_output=True, text=True, check=False)
        ids = found.stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", "-v", *ids], capture_output=True, check=False)
        images = list(CREATED.values())
        CREATED.clear()
        if images:
            subprocess.run(["docker", "rmi", "-f", *images], capture_output=True, check=False)


def launch_settings(backend: InstanceBackend, instance: Instance, kwargs: dict[str, Any]) -> None:
    """What EC2 takes from the launch template and moto does not: the instance profile (an
    association, as DescribeIamInstanceProfileAssociations shows on AWS) and the metadata
    options, when RunInstances gave none of its own."""
    from moto.ec2.models.instances import MetadataOptions

    if not kwargs.get("launch_template"):
        return
    data = backend._get_template_from_args(kwargs["launch_template"]).data  # type: ignore[attr-defined]
    options = data.get("MetadataOptions")
    if options and not kwargs.get("metadata_options"):
        instance.metadata_options = MetadataOptions(options)
    profile = data.get("IamInstanceProfile") or {}
    if (profile and not kwargs.get("iam_instance_profile_name")
            and not kwargs.get("iam_instance_profile_arn")
            and instance.id not in backend.iam_instance_profile_associations):
        backend.associate_iam_instance_profile(  # type: ignore[attr-defined]
            instance.id, iam_instance_profile_name=profile.get("Name"),
            iam_instance_profile_arn=profile.get("Arn"))


def twin_options(instance: Instance) -> list[str]:
    """With the twin on: the instance joins its network and gets its instance services."""
    from localcloud import twin

    running = twin.current()
    services = running.instance_services if running is not None else None
    return services.run_options(instance) if services is not None else []


def _forget(instance_id: str) -> None:
    from localcloud import twin

    running = twin.current()
    if running is not None and running.instance_services is not None:
        running.instance_services.forget(instance_id)


def _has_container(instance: Instance) -> bool:
    return any(t.get("key") == TAG for t in instance.get_tags())


def apply() -> None:
    if settings.instances() != "containers" or getattr(InstanceBackend.run_instances,
                                                       "_localcloud", False):
        return
    docker = Docker()
    atexit.register(docker.cleanup)
    run_instances = InstanceBackend.run_instances
    live: dict[str, Instance] = {}  # instance id -> instance, for the die watcher

    @functools.wraps(run_instances)
    def run_with_containers(self: InstanceBackend, *args: Any, **kwargs: Any):
        reservation = run_instances(self, *args, **kwargs)
        for instance in reservation.instances:
            launch_settings(self, instance, kwargs)
            image = image_for(self, instance)
            if image is None:
                print(f"localcloud: instance {instance.id} stays a record: its AMI "
                      f"{instance.image_id} maps to no image (LOCALCLOUD_AMI_IMAGES)",
                      file=sys.stderr, flush=True)
                continue
            self.create_tags([instance.id], {TAG: container_name(instance.id)})
            live[instance.id] = instance
            docker.watch(lambda instance_id, code: _died(live, instance_id, code))
            docker.submit(run_command(image, instance, docker.owner,
                                      docker.write_seed(instance), twin_options(instance)))
        return reservation

    run_with_containers._localcloud = True  # type: ignore[attr-defined]
    InstanceBackend.run_instances = run_with_containers  # type: ignore[method-assign]
    _follow(Instance, "stop", lambda i: ["docker", "stop", container_name(i.id)], docker)
    _follow(Instance, "start", lambda i: ["docker", "start", container_name(i.id)], docker)
    _follow(Instance, "terminate",
            lambda i: ["docker", "rm", "-f", "-v", container_name(i.id)], docker,
            after=lambda i: (live.pop(i.id, None), docker.remove_seed(i.id), _forget(i.id)))
    _console_output()
    _create_image(docker)


def _create_image(docker: Docker) -> None:
    """CreateImage of a container instance commits its container; DeregisterImage removes
    the image. The AMI stays ``pending`` until the commit has run (in the docker thread,
    after the commands submitted before it), ``failed`` if it could not."""
    from moto.ec2.models.amis import AmiBackend

    create_image, deregister_image = AmiBackend.create_image, AmiBackend.deregister_image

    @functools.wraps(create_image)
    def create(self: Any, instance_id: str, name: str, description: str,
               tag_specifications: list[dict[str, Any]]) -> Any:
        # moto refuses snapshot tags (NotImplementedError, a 500), which amazon.aws.ec2_ami
        # always sends with its tags: they go to the AMI's snapshot, as on AWS.
        snapshot_tags = [t for spec in tag_specifications if spec["ResourceType"] == "snapshot"
                         for t in spec["Tags"]]
        ami = create_image(self, instance_id, name, description,
                           [s for s in tag_specifications if s["ResourceType"] != "snapshot"])
        for tag in snapshot_tags:
            ami.ebs_snapshot.add_tag(tag["Key"], tag["Value"])
        if not _has_container(self.get_instance(instance_id)):
            return ami
        ami.state = "pending"
        image = created_image_name(ami.id)

        def commit() -> None:
            result = subprocess.run(
                ["docker", "commit", "--change", f"LABEL {LABEL}.ami={ami.id}",
                 container_name(instance_id), image],
                capture_output=True, text=True, check=False)
            if result.returncode != 0:
                print(f"localcloud: CreateImage {ami.id} of {instance_id} failed: "
                      f"{result.stderr.strip()}", file=sys.stderr, flush=True)
                ami.state = "failed"
                return
            CREATED[ami.id] = image
            ami.state = "available"

        docker.submit(commit)
        return ami

    @functools.wraps(deregister_image)
    def deregister(self: Any, ami_id: str, *args: Any, **kwargs: Any) -> Any:
        result = deregister_image(self, ami_id, *args, **kwargs)
        image = CREATED.pop(ami_id, None)
        if image is not None:
            docker.submit(["docker", "rmi", "-f", image])
        return result

    AmiBackend.create_image = create  # type: ignore[method-assign]
    AmiBackend.deregister_image = deregister  # type: ignore[method-assign]


def _died(live: dict[str, Instance], instance_id: str, exit_code: str) -> None:
    """The container of a live instance exited on its own: the machine is down."""
    from moto.ec2.models.instances import StateReason

    from localcloud.instance_refresh import LOCK

    with LOCK:
        instance = live.get(instance_id)
        if instance is None or instance.state not in LIVE_STATES:
            return  # stopped or terminated through the API: expected
        print(f"localcloud: the container of {instance_id} exited (code {exit_code}): "
              "instance stopped", file=sys.stderr, flush=True)
        instance._state.name, instance._state.code = "stopped", 80
        instance._reason = f"Server.InternalError ({utcnow().strftime('%Y-%m-%d %H:%M:%S UTC')})"
        instance.state_reason = StateReason(
            f"Server.InternalError: the instance's container exited (code {exit_code})",
            "Server.InternalError")
        group = getattr(instance, "autoscaling_group", None)
        if group is None or not any(s.instance.id == instance_id for s in group.instance_states):
            return
        backend = group.autoscaling_backend
        if group.name not in backend.autoscaling_groups:
            return
        backend.set_instance_health(instance_id, "Unhealthy")
        if "ReplaceUnhealthy" in getattr(group, "_suspended_processes", ()):
            return
        backend.terminate_instance(instance_id, should_decrement=False)


def _console_output() -> None:
    """``GetConsoleOutput`` of a container instance: its cloud-init output log."""
    original = General.get_console_output

    @functools.wraps(original)
    def get_console_output(self: General) -> ActionResult:
        instance = self.ec2_backend.get_instance(self._get_param("InstanceId"))
        if not _has_container(instance):
            return original(self)
        result: dict[str, Any] = {"InstanceId": instance.id, "Timestamp": utcnow()}
        output = console_output(container_name(instance.id))
        if output:
            result["Output"] = Base64EncodedString.from_raw_string(output)
        return ActionResult(result)

    General.get_console_output = get_console_output  # type: ignore[method-assign]


def _follow(cls: type, method: str, command: Callable[[Instance], list[str]],
            docker: Docker, after: Callable[[Instance], Any] | None = None) -> None:
    """After ``cls.method`` ran, run ``command`` for instances that have a container."""
    original = getattr(cls, method)

    @functools.wraps(original)
    def wrapper(self: Instance, *args: Any, **kwargs: Any) -> Any:
        had_container = _has_container(self)
        result = original(self, *args, **kwargs)
        if had_container:
            docker.submit(command(self))
            if after is not None:
                after(self)
        return result

    setattr(cls, method, wrapper)
