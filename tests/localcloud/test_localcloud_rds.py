"""RDS gap fill: gp3 instances report baseline IOPS and throughput."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.mark.parametrize(("gib", "iops", "throughput"), [(10, 3000, 125), (400, 12000, 500)])
def test_gp3_instance_reports_baseline_iops_and_throughput(
    localcloud: str, gib: int, iops: int, throughput: int
) -> None:
    rds = boto3.client("rds")
    name = f"gp3-{uuid.uuid4().hex[:8]}"
    rds.create_db_instance(
        DBInstanceIdentifier=name, DBInstanceClass="db.t4g.micro", Engine="mysql",
        MasterUsername="admin", MasterUserPassword="not-a-real-secret-1",
        AllocatedStorage=gib, StorageType="gp3",
    )
    db = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    assert (db["StorageType"], db["Iops"], db["StorageThroughput"]) == ("gp3", iops, throughput)


def test_explicit_gp3_throughput_is_kept(localcloud: str) -> None:
    rds = boto3.client("rds")
    name = f"gp3-{uuid.uuid4().hex[:8]}"
    rds.create_db_instance(
        DBInstanceIdentifier=name, DBInstanceClass="db.t4g.micro", Engine="mysql",
        MasterUsername="admin", MasterUserPassword="not-a-real-secret-1",
        AllocatedStorage=500, StorageType="gp3", Iops=15000, StorageThroughput=750,
    )
    db = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    assert (db["Iops"], db["StorageThroughput"]) == (15000, 750)


def test_gp2_instance_has_no_throughput(localcloud: str) -> None:
    rds = boto3.client("rds")
    name = f"gp2-{uuid.uuid4().hex[:8]}"
    rds.create_db_instance(
        DBInstanceIdentifier=name, DBInstanceClass="db.t4g.micro", Engine="mysql",
        MasterUsername="admin", MasterUserPassword="not-a-real-secret-1",
        AllocatedStorage=20, StorageType="gp2",
    )
    db = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    assert "StorageThroughput" not in db


def test_mysql_parameter_group_lists_require_secure_transport_until_and_after_set(
        localcloud: str) -> None:
    rds = boto3.client("rds")
    name = f"pg-{uuid.uuid4().hex[:8]}"
    rds.create_db_parameter_group(DBParameterGroupName=name, DBParameterGroupFamily="mysql8.4",
                                  Description="test")
    listed = {p["ParameterName"]: p for p in rds.describe_db_parameters(DBParameterGroupName=name)["Parameters"]}
    found = listed["require_secure_transport"]
    assert (found["Source"], found["DataType"], found["IsModifiable"]) == ("engine-default", "boolean", True)
    assert "ParameterValue" not in found
    rds.modify_db_parameter_group(DBParameterGroupName=name, Parameters=[{
        "ParameterName": "require_secure_transport", "ParameterValue": "1", "ApplyMethod": "immediate"}])
    listed = {p["ParameterName"]: p for p in rds.describe_db_parameters(DBParameterGroupName=name)["Parameters"]}
    assert listed["require_secure_transport"]["ParameterValue"] == "1"
    # A family of another engine does not get MySQL's parameters.
    other = f"pg-{uuid.uuid4().hex[:8]}"
    rds.create_db_parameter_group(DBParameterGroupName=other, DBParameterGroupFamily="postgres16",
                                  Description="test")
    assert rds.describe_db_parameters(DBParameterGroupName=other)["Parameters"] == []


def test_describing_a_missing_parameter_group_is_an_error(localcloud: str) -> None:
    rds = boto3.client("rds")
    with pytest.raises(rds.exceptions.DBParameterGroupNotFoundFault):
        rds.describe_db_parameter_groups(DBParameterGroupName=f"missing-{uuid.uuid4().hex[:8]}")


def _instance(rds: Any, **extra: Any) -> dict[str, Any]:
    name = f"ca-{uuid.uuid4().hex[:8]}"
    rds.create_db_instance(
        DBInstanceIdentifier=name, DBInstanceClass="db.t4g.micro", Engine="mysql",
        EngineVersion="8.4.7", MasterUsername="admin", MasterUserPassword="not-a-real-secret-1",
        AllocatedStorage=20, **extra)
    return rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]


def test_certificates_are_the_regions_rds_cas_with_their_validity(localcloud: str) -> None:
    rds = boto3.client("rds")
    answer = rds.describe_certificates()
    found = {c["CertificateIdentifier"]: c for c in answer["Certificates"]}
    assert set(found) == {"rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1"}
    assert answer["DefaultCertificateForNewLaunches"] == "rds-ca-rsa2048-g1"
    rsa2048 = found["rds-ca-rsa2048-g1"]
    assert rsa2048["ValidTill"] == datetime(2061, 5, 25, 23, 34, 57, tzinfo=timezone.utc)
    assert rsa2048["ValidFrom"] < datetime.now(timezone.utc) < rsa2048["ValidTill"]
    assert rsa2048["CertificateArn"].endswith(f":rds:{rds.meta.region_name}::cert:rds-ca-rsa2048-g1")
    one = rds.describe_certificates(CertificateIdentifier="RDS-CA-ECC384-G1")["Certificates"]
    assert [c["CertificateIdentifier"] for c in one] == ["rds-ca-ecc384-g1"]
    with pytest.raises(ClientError) as caught:
        rds.describe_certificates(CertificateIdentifier="rds-ca-2019")
    assert caught.value.response["Error"]["Code"] == "CertificateNotFound"


def test_instance_uses_the_default_ca_and_reports_its_details(localcloud: str) -> None:
    rds = boto3.client("rds")
    db = _instance(rds)
    assert db["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"
    assert db["CertificateDetails"] == {
        "CAIdentifier": "rds-ca-rsa2048-g1",
        "ValidTill": datetime(2061, 5, 25, 23, 34, 57, tzinfo=timezone.utc)}
    changed = rds.modify_db_instance(DBInstanceIdentifier=db["DBInstanceIdentifier"],
                                     CACertificateIdentifier="rds-ca-rsa4096-g1",
                                     ApplyImmediately=True)["DBInstance"]
    assert changed["CertificateDetails"]["CAIdentifier"] == "rds-ca-rsa4096-g1"
    assert changed["CertificateDetails"]["ValidTill"].year == 2121
    with pytest.raises(ClientError) as caught:
        rds.modify_db_instance(DBInstanceIdentifier=db["DBInstanceIdentifier"],
                               CACertificateIdentifier="rds-ca-2019", ApplyImmediately=True)
    assert caught.value.response["Error"]["Code"] == "CertificateNotFound"
    with pytest.raises(ClientError):
        _instance(rds, CACertificateIdentifier="rds-ca-2015")
    given = _instance(rds, CACertificateIdentifier="rds-ca-ecc384-g1")
    assert given["CertificateDetails"]["CAIdentifier"] == "rds-ca-ecc384-g1"


def test_engine_versions_of_the_mysql_84_line(localcloud: str) -> None:
    rds = boto3.client("rds")
    versions = rds.describe_db_engine_versions(Engine="mysql")["DBEngineVersions"]
    listed = [v["EngineVersion"] for v in versions]
    assert listed == ["8.4.3", "8.4.4", "8.4.5", "8.4.6", "8.4.7"]
    assert {(v["DBParameterGroupFamily"], v["Status"]) for v in versions} == {("mysql8.4", "available")}
    exact = rds.describe_db_engine_versions(Engine="mysql", EngineVersion="8.4.5")["DBEngineVersions"]
    assert [v["EngineVersion"] for v in exact] == ["8.4.5"]
    assert [t["EngineVersion"] for t in exact[0]["ValidUpgradeTarget"]] == ["8.4.6", "8.4.7"]
    default = rds.describe_db_engine_versions(Engine="mysql", EngineVersion="8.4",
                                              DefaultOnly=True)["DBEngineVersions"]
    assert [v["EngineVersion"] for v in default] == ["8.4.7"]
    family = rds.describe_db_engine_versions(DBParameterGroupFamily="mysql8.4")["DBEngineVersions"]
    assert len(family) == 5
    assert rds.describe_db_engine_versions(Engine="mysql", EngineVersion="5.7.44")["DBEngineVersions"] == []
    assert rds.describe_db_engine_versions(Engine="postgres")["DBEngineVersions"] == []


def test_a_deprecated_version_is_listed_only_with_include_all(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from localcloud.ext.fidelity import rds_engine_versions

    monkeypatch.setattr(rds_engine_versions, "VERSIONS",
                        (("mysql", "8.4.3", "deprecated"), ("mysql", "8.4.7", "available")))
    assert [v["EngineVersion"] for v in rds_engine_versions.matching(engine="mysql")] == ["8.4.7"]
    assert [v["EngineVersion"] for v in rds_engine_versions.matching(
        engine="mysql", include_all=True)] == ["8.4.3", "8.4.7"]
