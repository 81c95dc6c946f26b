"""RDS: ``DescribeDBEngineVersions`` for the engine line the stack uses (MySQL 8.4).

moto 5.2.5 does not implement ``DescribeDBEngineVersions`` (HTTP 500). An auditor
(prowler's ``rds_instance_deprecated_engine_version``) then finds no supported version
for the DB instance's engine and reports the version deprecated, which says nothing
about the stack. Here the action answers, as RDS does, with the MySQL 8.4 line's minor
versions as RDS listed them in late 2025 (all ``available``; 8.4.7 is the newest and the
line's default), their parameter group family ``mysql8.4`` and descriptions:

- ``Engine``, ``EngineVersion`` (an exact version or a major prefix such as ``8.4``)
  and ``DBParameterGroupFamily`` narrow the list; ``DefaultOnly`` keeps the default
  version of each matching major line;
- without ``IncludeAll`` a ``deprecated`` version is left out, as on AWS (none of this
  line is deprecated yet; the status is carried so a later entry can be);
- other engines and lines are not listed (an empty answer, as AWS gives for a filter
  that matches nothing): only what the stack uses is modelled. ``moto`` has no engine
  catalogue to take them from, and inventing one would be worse than leaving it empty.
"""
from __future__ import annotations

from typing import Any

from moto.rds.responses import RDSResponse

from localcloud import patching

# (engine, version, status); the default of a major line is its entry in DEFAULTS.
VERSIONS: tuple[tuple[str, str, str], ...] = (
    ("mysql", "8.4.3", "available"),
    ("mysql", "8.4.4", "available"),
    ("mysql", "8.4.5", "available"),
    ("mysql", "8.4.6", "available"),
    ("mysql", "8.4.7", "available"),
)
DEFAULTS = {("mysql", "8.4"): "8.4.7"}
DESCRIPTIONS = {"mysql": "MySQL Community Edition"}


def _major(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _family(engine: str, version: str) -> str:
    return f"{engine}{_major(version)}"


def engine_version(engine: str, version: str, status: str) -> dict[str, Any]:
    return {
        "Engine": engine,
        "EngineVersion": version,
        "DBParameterGroupFamily": _family(engine, version),
        "DBEngineDescription": DESCRIPTIONS[engine],
        "DBEngineVersionDescription": f"{DESCRIPTIONS[engine].split()[0]} {version}",
        "Status": status,
        "ValidUpgradeTarget": [
            {"Engine": engine, "EngineVersion": later, "AutoUpgrade": False,
             "IsMajorVersionUpgrade": False, "Description": f"MySQL {later}"}
            for e, later, s in VERSIONS
            if e == engine and _major(later) == _major(version)
            and tuple(map(int, later.split("."))) > tuple(map(int, version.split(".")))
            and s == "available"],
        "SupportsLogExportsToCloudwatchLogs": True,
        "ExportableLogTypes": ["audit", "error", "general", "slowquery"],
        "SupportsReadReplica": True,
        "SupportedEngineModes": ["provisioned"],
        "SupportsParallelQuery": False,
        "SupportsGlobalDatabases": False,
        "SupportsBabelfish": False,
        "SupportsCertificateRotationWithoutRestart": True,
        "SupportedCACertificateIdentifiers": ["rds-ca-ecc384-g1", "rds-ca-rsa2048-g1",
                                              "rds-ca-rsa4096-g1"],
    }


def matching(engine: str | None = None, version: str | None = None, family: str | None = None,
             default_only: bool = False, include_all: bool = False) -> list[dict[str, Any]]:
    """The entries a DescribeDBEngineVersions request with these parameters returns."""
    found = []
    for e, v, status in VERSIONS:
        if engine and e != engine:
            continue
        if version and v != version and _major(v) != version:
            continue
        if family and _family(e, v) != family:
            continue
        if status == "deprecated" and not include_all:
            continue
        if default_only and DEFAULTS.get((e, _major(v))) != v:
            continue
        found.append(engine_version(e, v, status))
    return found


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def describe_db_engine_versions(self: RDSResponse) -> Any:
    from moto.core.responses import ActionResult

    params = self.params
    return ActionResult({"DBEngineVersions": matching(
        engine=params.get("Engine"), version=params.get("EngineVersion"),
        family=params.get("DBParameterGroupFamily"),
        default_only=_flag(params.get("DefaultOnly")), include_all=_flag(params.get("IncludeAll")))})


def apply() -> None:
    patching.answer(RDSResponse, describe_db_engine_versions)
