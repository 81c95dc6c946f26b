"""IAM gap fill: the AWS managed policy the playbooks attach exists without loading all of them."""
from __future__ import annotations

import json
import uuid

import boto3

POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


def test_rds_enhanced_monitoring_policy_can_be_attached(localcloud: str) -> None:
    iam = boto3.client("iam")
    role = f"rds-monitoring-{uuid.uuid4().hex[:8]}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                       "Principal": {"Service": "monitoring.rds.amazonaws.com"}}]}))

    iam.attach_role_policy(RoleName=role, PolicyArn=POLICY)

    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [POLICY]
    assert iam.get_policy(PolicyArn=POLICY)["Policy"]["PolicyName"] == \
        "AmazonRDSEnhancedMonitoringRole"
