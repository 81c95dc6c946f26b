"""RDS gap fill: gp3 instances report baseline IOPS and throughput."""
from __future__ import annotations

import uuid

import boto3
import pytest


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
