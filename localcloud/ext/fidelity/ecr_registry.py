"""ECR: a real registry behind the repositories (``LOCALCLOUD_TWIN=on``; see localcloud/twin/).

moto's ECR only keeps records: ``GetAuthorizationToken`` answers a fixed token for a
registry that does not exist, and lifecycle policies are stored, never applied. With the
twin on, the server's registry container (:mod:`localcloud.twin.registry`) holds the
images:

* ``GetAuthorizationToken``: ``base64("AWS:" + password)`` with a password the registry
  accepts, its real ``expiresAt`` (12 h) and the ``proxyEndpoint`` of the account's host;
* ``DescribeImages`` / ``ListImages``: what the registry holds for the repository
  (digest, tags, push time, size, manifest media type);
* ``BatchDeleteImage`` and ``DeleteRepository`` (``force``): the manifests are deleted
  from the registry too;
* lifecycle policies are applied to the registry's images every few seconds
  (:mod:`localcloud.twin.lifecycle`); AWS does it within a day.

The registry serves every account and region of the local cloud under one namespace:
a repository name is its path in the registry.
"""
from __future__ import annotations

import base64
import datetime
import functools
import time
from typing import Any

from moto.ecr.models import ECRBackend, Image, Repository, ecr_backends
from moto.ecr.responses import ECRResponse

from localcloud import settings, twin
from localcloud.twin import lifecycle, registry


class RegistryImage(Image):
    """An ECR image record made from what the registry holds."""

    def __init__(self, account_id: str, held: registry.Image) -> None:
        super().__init__(account_id, held.tags[0] if held.tags else None, held.manifest,
                         held.repository, image_manifest_mediatype=held.media_type,
                         digest=held.digest)
        self.image_tags = list(held.tags)
        self.image_pushed_at = int(held.pushed_at)
        self._size = held.size

    @property
    def image_size_in_bytes(self) -> int:
        return self._size


def _registry() -> registry.Registry | None:
    running = twin.current()
    return running.registry if running is not None else None


def _sync(backend: ECRBackend, repo: Repository, held: list[registry.Image]) -> None:
    repo.images = [RegistryImage(backend.account_id, image) for image in held]


def _sync_one(backend: ECRBackend, name: str) -> None:
    reg = _registry()
    repo = backend.repositories.get(name)
    if reg is not None and repo is not None:
        _sync(backend, repo, reg.images().get(name, []))


def enforce_lifecycle_policies() -> None:
    """Expire what each repository's lifecycle policy expires, then refresh its records.

    Asks the registry only when some repository has a policy (a docker exec each time)."""
    reg = _registry()
    governed = [(backend, name, repo)
                for _account, regions in list(ecr_backends.items())
                for _region, backend in list(regions.items())
                for name, repo in list(backend.repositories.items()) if repo.lifecycle_policy]
    if reg is None or not governed:
        return
    held = reg.images()
    now = time.time()
    for backend, name, repo in governed:
        images = held.get(name, [])
        gone = lifecycle.expired(repo.lifecycle_policy, [i.held() for i in images], now)
        for image in gone:
            reg.delete(name, image.digest)
            print(f"localcloud: twin: lifecycle policy of {name} expired "
                  f"{image.digest} {list(image.tags)}", flush=True)
        if gone:
            images = reg.images().get(name, [])
        _sync(backend, repo, images)


def get_authorization_token(self: ECRResponse) -> Any:
    from moto.core.responses import ActionResult

    reg = _registry()
    token = reg.token()  # type: ignore[union-attr]
    registry_ids = self._get_param("registryIds") or [self.current_account]
    expires = datetime.datetime.fromtimestamp(token.expires_at, datetime.timezone.utc)
    encoded = base64.b64encode(f"{registry.USER}:{token.password}".encode()).decode()
    return ActionResult({"authorizationData": [
        {"authorizationToken": encoded, "expiresAt": expires,
         "proxyEndpoint": f"https://{registry_id}.dkr.ecr.{self.region}.amazonaws.com"}
        for registry_id in registry_ids]})


def _synced_first(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(self: ECRBackend, repository_name: str, *args: Any, **kwargs: Any) -> Any:
        _sync_one(self, repository_name)
        return method(self, repository_name, *args, **kwargs)
    return wrapper


def _deleting_from_registry(method: Any) -> Any:
    """After moto removed image records, delete the manifests that no record holds now."""
    @functools.wraps(method)
    def wrapper(self: ECRBackend, repository_name: str, *args: Any, **kwargs: Any) -> Any:
        _sync_one(self, repository_name)
        repo = self.repositories.get(repository_name)
        before = {i.image_digest for i in repo.images} if repo is not None else set()
        result = method(self, repository_name, *args, **kwargs)
        after = repo.images if repo is not None and repository_name in self.repositories else []
        reg = _registry()
        if reg is not None:
            for digest in before - {i.image_digest for i in after}:
                reg.delete(repository_name, digest)
        return result
    return wrapper


def apply() -> None:
    if not settings.twin() or getattr(ECRBackend.describe_images, "_localcloud", False):
        return
    ECRResponse.get_authorization_token = get_authorization_token  # type: ignore[method-assign]
    for name in ("describe_images", "list_images"):
        setattr(ECRBackend, name, _synced_first(getattr(ECRBackend, name)))
    ECRBackend.batch_delete_image = _deleting_from_registry(  # type: ignore[method-assign]
        ECRBackend.batch_delete_image)
    ECRBackend.delete_repository = _deleting_from_registry(  # type: ignore[method-assign]
        ECRBackend.delete_repository)
    ECRBackend.describe_images._localcloud = True  # type: ignore[attr-defined]
    twin.on_start(lambda running: running.every_cycle(enforce_lifecycle_policies))
