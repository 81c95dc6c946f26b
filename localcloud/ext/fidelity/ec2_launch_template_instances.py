"""EC2: instances launched from a launch template carry what the template asks for, and
new volumes follow the region's EBS encryption by default, as on AWS.

moto's ``RunInstances`` (which Auto Scaling calls for every instance it launches) takes
from the launch template the image, type, user data, key, security groups and instance
tags, but not:

* the ``MetadataOptions`` (IMDSv2 required, hop limit): the instance answered with
  moto's defaults (tokens optional, hop limit 1); nor the template's instance profile
  (no association, as ``DescribeIamInstanceProfileAssociations`` shows on AWS) — both
  were applied only to the twin's container instances;
* the block devices as the instance's volumes: moto attaches its default 8 GiB
  unencrypted root volume at ``/dev/sda1`` whatever the image's root device is, and then
  the template's devices beside it; so an instance whose template asks for an encrypted
  root volume at ``/dev/xvda`` had two volumes, one of them unencrypted. Here the
  template's devices are the instance's block devices, and the image's root device gets
  the default volume only when the template does not name it (AWS takes the rest of the
  root volume from the image); a launch without a template gets its default root volume
  at the image's root device name too;
* the template's ``volume`` tag specifications (only ``instance`` ones were applied);
* the template's primary network interface (``NetworkInterfaces``, device index 0): its
  ``Groups`` (the instance got no security group at all when the template named its
  groups there, as AWS requires once a template has an interface) and its
  ``AssociatePublicIpAddress`` (the instance followed the subnet's mapping instead; on
  AWS the interface's setting wins: ``false`` in a subnet that maps public addresses gives
  none, ``true`` in one that does not gives one).

And ``CreateVolume``/``RunInstances`` ignored ``EnableEbsEncryptionByDefault``: with it on,
AWS encrypts every new volume (with the region's default EBS key unless one is named).

Explicit ``RunInstances`` parameters still win over the template's, as on AWS.
"""
from __future__ import annotations

import functools
from typing import Any

DEFAULT_ROOT_SIZE = 8  # GiB: moto's default root volume


def _root_device(backend: Any, image_id: str | None) -> str:
    image = backend.amis.get(image_id) if image_id else None
    return getattr(image, "root_device_name", None) or "/dev/sda1"


def _template_block_devices(template: dict[str, Any], root: str) -> list[dict[str, Any]]:
    """The template's EBS devices, with a default root volume when it names none."""
    devices = [d for d in template.get("BlockDeviceMappings") or [] if d.get("Ebs")]
    if not any(d["DeviceName"] == root for d in devices):
        devices.insert(0, {"DeviceName": root,
                           "Ebs": {"VolumeSize": DEFAULT_ROOT_SIZE, "DeleteOnTermination": True}})
    return devices


def _volume_tags(template: dict[str, Any]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for spec in template.get("TagSpecifications") or []:
        if spec.get("ResourceType") == "volume":
            tags.update({t["Key"]: t["Value"] for t in spec.get("Tags") or []})
    return tags


def _primary_interface(template: dict[str, Any]) -> dict[str, Any] | None:
    for nic in template.get("NetworkInterfaces") or []:
        if str(nic.get("DeviceIndex", "0")) == "0":
            return nic
    return None


def _interface_settings(template: dict[str, Any], kwargs: dict[str, Any],
                        security_group_names: list[str]) -> None:
    """The template interface's groups and public-address choice, unless the launch names
    its own (interfaces, groups or the public-address flag)."""
    nic = _primary_interface(template)
    if nic is None or kwargs.get("nics"):
        return
    groups = nic.get("Groups") or []
    if isinstance(groups, dict):  # a query-string list parsed as {"1": ..., "2": ...}
        groups = [groups[k] for k in sorted(groups, key=int)]
    if groups and not kwargs.get("security_group_ids") and not security_group_names:
        kwargs["security_group_ids"] = list(groups)
    asks = nic.get("AssociatePublicIpAddress")
    if asks is not None and kwargs.get("associate_public_ip") is None:
        kwargs["associate_public_ip"] = str(asks).lower() == "true"


def apply() -> None:
    """Install the gap fills (idempotent)."""
    from moto.ec2.models.elastic_block_store import EBSBackend
    from moto.ec2.models.instances import Instance, InstanceBackend

    # The metadata options and the instance profile association, written once with the
    # container instances (which call it again: it leaves what is set alone).
    from localcloud.ext.fidelity.ec2_containers import launch_settings

    run_instances = InstanceBackend.run_instances
    if getattr(run_instances, "_localcloud_template", False):
        return

    @functools.wraps(run_instances)
    def run_from_template(self: Any, image_id: str, count: int, user_data: Any,
                          security_group_names: list[str], **kwargs: Any) -> Any:
        if not kwargs.get("launch_template"):
            return run_instances(self, image_id, count, user_data, security_group_names,
                                 **kwargs)
        version = self._get_template_from_args(kwargs["launch_template"])
        template = version.data
        if "block_device_mappings" not in kwargs:
            root = _root_device(self, image_id or version.image_id)
            kwargs["block_device_mappings"] = _template_block_devices(template, root)
        _interface_settings(template, kwargs, security_group_names)
        volume_tags = _volume_tags(template)
        if volume_tags:
            tags = dict(kwargs.get("tags") or {})
            tags["volume"] = {**volume_tags, **(tags.get("volume") or {})}
            kwargs["tags"] = tags
        reservation = run_instances(self, image_id, count, user_data, security_group_names,
                                    **kwargs)
        for instance in reservation.instances:
            launch_settings(self, instance, kwargs)
        return reservation

    run_from_template._localcloud_template = True  # type: ignore[attr-defined]
    InstanceBackend.run_instances = run_from_template  # type: ignore[method-assign]

    def setup_defaults(self: Instance) -> None:
        # moto's default root volume, at the image's root device name (AWS's root device).
        volume = self.ec2_backend.create_volume(size=DEFAULT_ROOT_SIZE,
                                                zone_name=self._placement.zone)
        self.ec2_backend.attach_volume(volume.id, self.id, self.root_device_name, True)

    Instance.setup_defaults = setup_defaults  # type: ignore[method-assign]

    create_volume = EBSBackend.create_volume

    @functools.wraps(create_volume)
    def create_volume_by_default(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "ebs_encryption_by_default", False):
            kwargs["encrypted"] = True
        return create_volume(self, *args, **kwargs)

    EBSBackend.create_volume = create_volume_by_default  # type: ignore[method-assign]
