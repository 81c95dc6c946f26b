"""EC2: a route to an instance or to a network interface reads back as AWS returns it.

On AWS a route whose target is an instance's network interface (a NAT instance, the
network tier's private route table) is described with the interface, the instance it is
attached to and that instance's owner: ``NetworkInterfaceId``, ``InstanceId``,
``InstanceOwnerId``; a route created with ``InstanceId`` is stored as the instance's
primary interface and reads back with the same three. moto keeps only what the request
named (``NetworkInterfaceId`` alone, or ``InstanceId`` alone), so a tool that compares
the route with AWS's answer (prowler, a module looking for the instance) saw a different
route. Here the missing two are derived from the one the route was created with while
the interface is attached to an instance.
"""
from __future__ import annotations

from typing import Any

def _attached_instance(route: Any) -> Any:
    """The instance the route leads to: the one named, else the interface's (if attached)."""
    if route.instance is not None:
        return route.instance
    interface = route.interface
    return getattr(interface, "instance", None) if interface is not None else None


def instance_id(route: Any) -> str | None:
    instance = _attached_instance(route)
    return instance.id if instance is not None else None


def network_interface_id(route: Any) -> str | None:
    """The interface named, else the named instance's primary interface."""
    if route.interface is not None:
        return route.interface.id
    nics = getattr(route.instance, "nics", None) or {}
    return nics[0].id if 0 in nics else None


def instance_owner_id(route: Any) -> str | None:
    instance = _attached_instance(route)
    return instance.owner_id if instance is not None else None


def apply() -> None:
    """Install the gap fill (idempotent: the properties replace moto's, once)."""
    from moto.ec2.models.route_tables import Route

    Route.instance_id = property(instance_id)  # type: ignore[assignment,method-assign]
    Route.network_interface_id = property(network_interface_id)  # type: ignore[assignment,method-assign]
    Route.instance_owner_id = property(instance_owner_id)  # type: ignore[attr-defined]
