"""site.yml on an empty local cloud, then the resources checked through boto3 against the
seed's values; idempotence, check mode, each tier alone, teardown (twice).

The tests share one converged stack (module fixture) and run in file order: the
teardown tests come last.
"""
from __future__ import annotations

import base64
import ipaddress
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from provision_helpers import ROOT, Run, client, private_cloud, run_playbook, web_extra

pytestmark = [pytest.mark.slow, pytest.mark.playbook, pytest.mark.localcloud]

STACK = yaml.safe_load((ROOT / "inventories" / "aws" / "group_vars" / "all" / "stack.yml").read_text())
TABLES = yaml.safe_load((ROOT / "app" / "autobuy" / "schema" / "dynamodb_tables.yml").read_text())["tables"]
DOMAIN = STACK["autobuy_domain"]


class Stack:
    """The converged stack: the local cloud's URL and the first run's outcome."""

    def __init__(self, url: str, cold: Run, web: dict[str, str]) -> None:
        self.url, self.cold = url, cold
        # the frontend tier uploads a build of the web app: a small stand-in of web/dist
        self.web = web

    def client(self, service: str) -> Any:
        return client(service, self.url)

    def vpc_id(self) -> str:
        vpcs = self.client("ec2").describe_vpcs(
            Filters=[{"Name": "tag:Name", "Values": [STACK["autobuy_vpc_name"]]}])["Vpcs"]
        assert len(vpcs) == 1
        return vpcs[0]["VpcId"]

    def group(self, name: str) -> dict[str, Any]:
        groups = self.client("ec2").describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [name]},
                     {"Name": "vpc-id", "Values": [self.vpc_id()]}])["SecurityGroups"]
        assert len(groups) == 1, name
        return groups[0]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("stack")
    web = web_extra(tmp)
    with private_cloud(tmp / "localcloud.log") as url:
        cold = run_playbook("site.yml", url, extra=web)
        yield Stack(url, cold, web)


def assert_ok(run: Run, changed: int | None = None) -> None:
    assert run.returncode == 0, run.output[-4000:]
    assert run.recap["failed"] == 0
    if changed is not None:
        assert run.recap["changed"] == changed, _changed_tasks(run.output)


def _changed_tasks(output: str) -> list[str]:
    tasks, current = [], ""
    for line in output.splitlines():
        if line.startswith("TASK ["):
            current = line
        elif line.startswith("changed:"):
            tasks.append(current)
    return tasks


# --- The cold converge ------------------------------------------------------------

def test_cold_converge_succeeds(stack: Stack) -> None:
    assert_ok(stack.cold)
    assert stack.cold.recap["changed"] > 30


def test_no_secret_value_appears_in_the_output(stack: Stack) -> None:
    sm = stack.client("secretsmanager")
    db = json.loads(sm.get_secret_value(SecretId="taskapp/database")["SecretString"])
    app = json.loads(sm.get_secret_value(SecretId="taskapp/app")["SecretString"])
    for value in (db["password"], app["jwt_signing_key"]):
        assert value not in stack.cold.output


# --- Network ----------------------------------------------------------------------

def test_vpc_has_the_seed_cidr_and_dns(stack: Stack) -> None:
    ec2 = stack.client("ec2")
    vpc_id = stack.vpc_id()
    vpc = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    for attribute, key in (("enableDnsHostnames", "EnableDnsHostnames"),
                           ("enableDnsSupport", "EnableDnsSupport")):
        assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)[key]["Value"] is True


def test_six_subnets_with_the_seed_cidrs_and_azs_none_mapping_public_addresses(stack: Stack) -> None:
    subnets = stack.client("ec2").describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [stack.vpc_id()]}])["Subnets"]
    found = {s["CidrBlock"]: (s["AvailabilityZone"], s["MapPublicIpOnLaunch"]) for s in subnets}
    assert found == {
        "10.0.1.0/24": ("eu-central-1a", False), "10.0.2.0/24": ("eu-central-1b", False),
        "10.0.5.0/24": ("eu-central-1c", False), "10.0.3.0/24": ("eu-central-1a", False),
        "10.0.4.0/24": ("eu-central-1b", False), "10.0.6.0/24": ("eu-central-1c", False),
    }


def test_public_route_table_goes_to_the_igw_and_private_to_the_nat_instance(stack: Stack) -> None:
    ec2 = stack.client("ec2")
    vpc_id = stack.vpc_id()
    igw = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]
    assert len(igw) == 1
    subnets = {s["SubnetId"]: s["CidrBlock"] for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]}
    tables = {t_name(t): t for t in ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"] if t_name(t)}
    public, private = tables["TaskApp-Public-RT"], tables["TaskApp-Private-RT"]
    assert {subnets[a["SubnetId"]] for a in public["Associations"] if "SubnetId" in a} == {
        "10.0.1.0/24", "10.0.2.0/24", "10.0.5.0/24"}
    assert {subnets[a["SubnetId"]] for a in private["Associations"] if "SubnetId" in a} == {
        "10.0.3.0/24", "10.0.4.0/24", "10.0.6.0/24"}
    assert {(r["DestinationCidrBlock"], r.get("GatewayId")) for r in public["Routes"]} == {
        ("10.0.0.0/16", "local"), ("0.0.0.0/0", igw[0]["InternetGatewayId"])}
    nat = _nat_instance(stack)
    assert {(r["DestinationCidrBlock"], r.get("GatewayId"), r.get("NetworkInterfaceId"), r.get("InstanceId"))
            for r in private["Routes"]} == {
        ("10.0.0.0/16", "local", None, None),
        ("0.0.0.0/0", None, nat["NetworkInterfaces"][0]["NetworkInterfaceId"], nat["InstanceId"])}


def _nat_instance(stack: Stack) -> dict[str, Any]:
    (nat,) = [i for r in stack.client("ec2").describe_instances(Filters=[
        {"Name": "vpc-id", "Values": [stack.vpc_id()]}, {"Name": "tag:Name", "Values": ["TaskApp-NAT"]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])["Reservations"]
        for i in r["Instances"]]
    return nat


def test_the_nat_instance_sits_in_a_public_subnet_with_a_public_address_and_no_role(stack: Stack) -> None:
    nat, ec2 = _nat_instance(stack), stack.client("ec2")
    subnet = ec2.describe_subnets(SubnetIds=[nat["SubnetId"]])["Subnets"][0]
    assert subnet["CidrBlock"] == STACK["autobuy_public_subnets"][0]["cidr"]
    assert nat["PublicIpAddress"] and nat["SourceDestCheck"] is False
    assert (nat["InstanceType"], nat["Architecture"]) == ("t4g.nano", "arm64")
    image = ec2.describe_images(ImageIds=[nat["ImageId"]])["Images"][0]
    assert image["OwnerId"] == STACK["autobuy_ami_owner"] and image["Name"].startswith("debian-12-arm64-")
    assert "IamInstanceProfile" not in nat
    assert (nat["MetadataOptions"]["HttpTokens"], nat["MetadataOptions"]["HttpEndpoint"]) == ("required", "enabled")
    volumes = ec2.describe_volumes(VolumeIds=[m["Ebs"]["VolumeId"] for m in nat["BlockDeviceMappings"]])["Volumes"]
    assert volumes and all(v["Encrypted"] for v in volumes)
    tags = {t["Key"]: t["Value"] for t in nat["Tags"]}
    assert (tags["Project"], tags["Role"]) == ("autobuy-guard", "nat")
    user_data = base64.b64decode(ec2.describe_instance_attribute(
        InstanceId=nat["InstanceId"], Attribute="userData")["UserData"]["Value"]).decode()
    assert user_data.startswith("#cloud-config")
    assert "ip saddr 10.0.0.0/16 ip daddr != 10.0.0.0/16 masquerade" in user_data
    assert "net.ipv4.ip_forward = 1" in user_data
    group = stack.group("TaskApp-NAT-SG")
    assert [g["GroupId"] for g in nat["SecurityGroups"]] == [group["GroupId"]]
    private = {s["cidr"] for s in STACK["autobuy_private_subnets"]}
    assert _ingress(group) == {(port, cidr) for port in (80, 443) for cidr in private}
    egress = {(p["FromPort"], r["CidrIp"]) for p in group["IpPermissionsEgress"] for r in p.get("IpRanges", [])}
    assert egress == {(80, "0.0.0.0/0"), (443, "0.0.0.0/0")}


def t_name(resource: dict[str, Any]) -> str:
    return next((t["Value"] for t in resource.get("Tags", []) if t["Key"] == "Name"), "")


# --- Security ---------------------------------------------------------------------

def _ingress(group: dict[str, Any]) -> set[tuple[int, str]]:
    rules = set()
    for perm in group["IpPermissions"]:
        for cidr in perm.get("IpRanges", []):
            rules.add((perm["FromPort"], cidr["CidrIp"]))
        for pair in perm.get("UserIdGroupPairs", []):
            rules.add((perm["FromPort"], pair["GroupId"]))
    return rules


def test_security_groups_allow_only_the_seed_paths(stack: Stack) -> None:
    alb, web, db = (stack.group(n) for n in ("TaskApp-ALB-SG", "TaskApp-WebServer-SG", "TaskApp-Database-SG"))
    assert _ingress(alb) == {(80, "0.0.0.0/0"), (443, "0.0.0.0/0")}
    # No SSH rule while autobuy_admin_cidr is unset.
    assert _ingress(web) == {(80, alb["GroupId"])}
    # MySQL from the web servers and from the password rotation function (Lambda in the VPC).
    rotation = stack.group("TaskApp-DbRotation-SG")
    assert _ingress(db) == {(3306, web["GroupId"]), (3306, rotation["GroupId"])}
    assert db["IpPermissionsEgress"] == []


def test_instance_policy_is_scoped_to_this_stack(stack: Stack) -> None:
    iam = stack.client("iam")
    document = iam.get_role_policy(RoleName="EC2-ECR-SecretsManager-Role",
                                   PolicyName="taskapp-backend-least-privilege")["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    wildcard = []
    for statement in document["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "*" in resources:
            wildcard.append(statement["Action"])
            continue
        for arn in resources:
            assert arn.startswith("arn:aws:") and ":123456789012:" in arn, arn
    # Only the two actions AWS does not let us scope to a resource.
    assert sorted(map(str, wildcard)) == ["cloudwatch:PutMetricData", "ecr:GetAuthorizationToken"]
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert statements["PutMetricsInOurNamespace"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "AutoBuyGuard"}}
    assert statements["ReadThisStacksSecrets"]["Resource"] == [
        "arn:aws:secretsmanager:eu-central-1:123456789012:secret:taskapp/database-??????",
        "arn:aws:secretsmanager:eu-central-1:123456789012:secret:taskapp/app-??????"]
    # users' alerts go out through SES from the alerts address only; the ops topic is not theirs
    assert statements["SendAlertEmails"]["Resource"] == (
        "arn:aws:ses:eu-central-1:123456789012:identity/autobuyguard.store")
    assert statements["SendAlertEmails"]["Condition"] == {
        "StringEquals": {"ses:FromAddress": "alerts@autobuyguard.store"}}
    assert not [s for s in document["Statement"] if "sns:Publish" in str(s["Action"])]
    assert statements["EcrPullThisRepository"]["Resource"].endswith(":repository/taskapp-backend")
    assert statements["UseTheChecksQueue"]["Resource"].endswith(":autobuy-checks")
    # The table names parameter the instances read at boot, and restored tables (restore.yml).
    assert statements["ReadTheTableNames"]["Resource"] == (
        "arn:aws:ssm:eu-central-1:123456789012:parameter/taskapp/dynamodb-table-names")
    assert "arn:aws:dynamodb:eu-central-1:123456789012:table/autobuy_items-restored-*" in (
        statements["UseTheTables"]["Resource"])
    profile = iam.get_instance_profile(InstanceProfileName="EC2-ECR-SecretsManager-Role")["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == ["EC2-ECR-SecretsManager-Role"]


# --- Data -------------------------------------------------------------------------

def test_database_matches_the_seed(stack: Stack) -> None:
    db = stack.client("rds").describe_db_instances(DBInstanceIdentifier="taskapp-database")["DBInstances"][0]
    assert db["DBInstanceStatus"] == "available"
    assert (db["Engine"], db["EngineVersion"], db["DBInstanceClass"]) == ("mysql", "8.4.7", "db.t4g.micro")
    assert (db["AllocatedStorage"], db["StorageType"]) == (10, "gp3")
    assert db["StorageEncrypted"] is True
    assert db["PubliclyAccessible"] is False
    assert db["MultiAZ"] is False
    assert db["BackupRetentionPeriod"] == 7
    assert db["PreferredBackupWindow"] == "03:00-04:00"
    assert db["MonitoringInterval"] == 60
    assert db["MonitoringRoleArn"].endswith(":role/taskapp-rds-enhanced-monitoring")
    assert db["DeletionProtection"] is False
    assert db["MasterUsername"] == "admin"
    assert db["DBSubnetGroup"]["DBSubnetGroupName"] == "taskapp-db-subnet-group"
    assert [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]] == [stack.group("TaskApp-Database-SG")["GroupId"]]
    private = {s["SubnetIdentifier"] for s in db["DBSubnetGroup"]["Subnets"]}
    cidrs = {s["CidrBlock"] for s in stack.client("ec2").describe_subnets(SubnetIds=sorted(private))["Subnets"]}
    assert cidrs == {"10.0.3.0/24", "10.0.4.0/24", "10.0.6.0/24"}


def test_database_requires_tls_through_its_parameter_group(stack: Stack) -> None:
    rds = stack.client("rds")
    db = rds.describe_db_instances(DBInstanceIdentifier="taskapp-database")["DBInstances"][0]
    assert [g["DBParameterGroupName"] for g in db["DBParameterGroups"]] == ["taskapp-mysql"]
    group = rds.describe_db_parameter_groups(DBParameterGroupName="taskapp-mysql")["DBParameterGroups"][0]
    assert group["DBParameterGroupFamily"] == "mysql8.4"
    params = {p["ParameterName"]: p for p in rds.describe_db_parameters(
        DBParameterGroupName="taskapp-mysql")["Parameters"]}
    assert params["require_secure_transport"]["ParameterValue"] == "1"


def test_database_secret_holds_the_endpoint_and_a_generated_password(stack: Stack) -> None:
    secret = json.loads(stack.client("secretsmanager").get_secret_value(SecretId="taskapp/database")["SecretString"])
    assert set(secret) == {"host", "port", "username", "password", "dbname"}
    db = stack.client("rds").describe_db_instances(DBInstanceIdentifier="taskapp-database")["DBInstances"][0]
    assert secret["host"] == db["Endpoint"]["Address"]
    assert (secret["port"], secret["username"], secret["dbname"]) == (3306, "admin", "taskapp")
    assert len(secret["password"]) == 32 and secret["password"].isalnum()


def test_app_secret_has_the_contract_keys(stack: Stack) -> None:
    secret = json.loads(stack.client("secretsmanager").get_secret_value(SecretId="taskapp/app")["SecretString"])
    # Besides the JWT keyring the rotation schedule keeps (test_app_secret_rotates_its_jwt_key_every_15_days).
    assert set(secret) - {"jwt_keys", "jwt_current_kid", "jwt_added_at", "jwt_promoted_at"} == {
        "jwt_signing_key", "stripe_secret_key", "stripe_webhook_secret", "google_client_id"}
    assert len(secret["jwt_signing_key"]) == 64
    assert all(secret.values())


def _denied(policy: dict[str, Any], principal: str) -> bool:
    """Whether the policy's Deny statements refuse PRINCIPAL every Secrets Manager action,
    as IAM evaluates them (StringNotEquals on aws:PrincipalArn)."""
    for statement in policy["Statement"]:
        if statement["Effect"] != "Deny" or statement["Principal"] != "*":
            continue
        if statement["Action"] not in ("secretsmanager:*", ["secretsmanager:*"]):
            continue
        allowed = statement["Condition"]["StringNotEquals"]["aws:PrincipalArn"]
        if principal not in ([allowed] if isinstance(allowed, str) else allowed):
            return True
    return False


@pytest.mark.parametrize("secret", ["taskapp/database", "taskapp/app"])
def test_secrets_refuse_every_principal_but_the_instance_role_and_the_deployer(
        stack: Stack, secret: str) -> None:
    policy = json.loads(stack.client("secretsmanager").get_resource_policy(SecretId=secret)[
        "ResourcePolicy"])
    caller = stack.client("sts").get_caller_identity()["Arn"]
    assert not _denied(policy, "arn:aws:iam::123456789012:role/EC2-ECR-SecretsManager-Role")
    assert not _denied(policy, caller)
    for other in ("arn:aws:iam::123456789012:role/taskapp-rds-enhanced-monitoring",
                  "arn:aws:iam::123456789012:user/someone-else",
                  "arn:aws:iam::210987654321:role/EC2-ECR-SecretsManager-Role"):
        assert _denied(policy, other), other
    assert not [s for s in policy["Statement"] if s["Effect"] == "Allow"]


def test_database_password_rotates_every_30_days_with_our_function(stack: Stack, tmp_path) -> None:
    """The schedule on taskapp/database, the function built from the repository (same code
    hash as package.py's zip) in the private subnets, and only what it needs around it."""
    import subprocess
    import sys

    arn = "arn:aws:lambda:eu-central-1:123456789012:function:taskapp-db-rotation"
    secret = stack.client("secretsmanager").describe_secret(SecretId="taskapp/database")
    assert (secret["RotationEnabled"], secret["RotationLambdaARN"], secret["RotationRules"]) == (
        True, arn, {"AutomaticallyAfterDays": 30})

    lam = stack.client("lambda")
    config = lam.get_function(FunctionName="taskapp-db-rotation")["Configuration"]
    digest = subprocess.run([sys.executable, str(ROOT / "playbooks/files/mysql_rotation/package.py"),
                             str(tmp_path / "rotation.zip")], check=True, capture_output=True, text=True).stdout
    assert config["CodeSha256"] == digest.strip()
    assert (config["Runtime"], config["Handler"], config["Timeout"]) == (
        "python3.12", "lambda_function.lambda_handler", 30)
    assert config["Role"] == "arn:aws:iam::123456789012:role/taskapp-db-rotation"
    ec2 = stack.client("ec2")
    private = {s["SubnetId"] for s in ec2.describe_subnets(Filters=[
        {"Name": "vpc-id", "Values": [stack.vpc_id()]}])["Subnets"] if s["CidrBlock"] in ("10.0.3.0/24", "10.0.4.0/24", "10.0.6.0/24")}
    rotation, endpoint_group = stack.group("TaskApp-DbRotation-SG"), stack.group("TaskApp-SecretsManager-Endpoint-SG")
    assert set(config["VpcConfig"]["SubnetIds"]) == private
    assert config["VpcConfig"]["SecurityGroupIds"] == [rotation["GroupId"]]

    (statement,) = json.loads(lam.get_policy(FunctionName="taskapp-db-rotation")["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "secretsmanager.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceAccount": "123456789012"}}

    document = stack.client("iam").get_role_policy(RoleName="taskapp-db-rotation",
                                                   PolicyName="taskapp-db-rotation")["PolicyDocument"]
    statements = {s["Sid"]: s for s in (json.loads(document) if isinstance(document, str) else document)["Statement"]}
    assert statements["RotateTheDatabaseSecret"]["Resource"] == (
        "arn:aws:secretsmanager:eu-central-1:123456789012:secret:taskapp/database-??????")

    # The function reaches MySQL and HTTPS inside the VPC only; the endpoint takes HTTPS from it only.
    assert {(p["FromPort"], r["CidrIp"]) for p in rotation["IpPermissionsEgress"] for r in p["IpRanges"]} == {
        (3306, "10.0.0.0/16"), (443, "10.0.0.0/16")}
    assert _ingress(rotation) == set()
    assert _ingress(endpoint_group) == {(443, rotation["GroupId"]), (443, stack.group("TaskApp-JwtRotation-SG")["GroupId"])}
    (endpoint,) = [e for e in ec2.describe_vpc_endpoints()["VpcEndpoints"] if e["State"] != "deleted"]
    assert (endpoint["VpcEndpointType"], endpoint["ServiceName"], endpoint["PrivateDnsEnabled"]) == (
        "Interface", "com.amazonaws.eu-central-1.secretsmanager", True)
    assert len(endpoint["SubnetIds"]) == 1 and set(endpoint["SubnetIds"]) <= private
    assert [g["GroupId"] for g in endpoint["Groups"]] == [endpoint_group["GroupId"]]

    # The secrets' resource policy lets the function's role through.
    policy = json.loads(stack.client("secretsmanager").get_resource_policy(SecretId="taskapp/database")["ResourcePolicy"])
    assert not _denied(policy, "arn:aws:iam::123456789012:role/taskapp-db-rotation")


def test_app_secret_rotates_its_jwt_key_every_15_days(stack: Stack, tmp_path) -> None:
    """The schedule on taskapp/app with the JWT rotation function built from the repository,
    in the private subnets with a group of its own (HTTPS inside the VPC only); the rotation
    Secrets Manager runs when the schedule is set has added a key that does not sign yet."""
    import subprocess
    import sys

    arn = "arn:aws:lambda:eu-central-1:123456789012:function:taskapp-jwt-rotation"
    secrets = stack.client("secretsmanager")
    secret = secrets.describe_secret(SecretId="taskapp/app")
    assert (secret["RotationEnabled"], secret["RotationLambdaARN"], secret["RotationRules"]) == (
        True, arn, {"AutomaticallyAfterDays": 15})
    deadline = time.monotonic() + 60
    while "LastRotatedDate" not in secrets.describe_secret(SecretId="taskapp/app"):
        assert time.monotonic() < deadline, "the first rotation did not finish"
        time.sleep(0.5)
    value = json.loads(secrets.get_secret_value(SecretId="taskapp/app")["SecretString"])
    assert value["jwt_current_kid"] == "k0" and len(value["jwt_keys"]) == 2

    lam = stack.client("lambda")
    config = lam.get_function(FunctionName="taskapp-jwt-rotation")["Configuration"]
    digest = subprocess.run([sys.executable, str(ROOT / "playbooks/files/jwt_rotation/package.py"),
                             str(tmp_path / "rotation.zip")], check=True, capture_output=True, text=True).stdout
    assert config["CodeSha256"] == digest.strip()
    assert (config["Runtime"], config["Handler"], config["Timeout"]) == (
        "python3.12", "lambda_function.lambda_handler", 10)
    assert config["Environment"]["Variables"] == {"SETTLE_SECONDS": "360", "TOKEN_SECONDS": "900", "KEY_LENGTH": "64"}
    assert config["Role"] == "arn:aws:iam::123456789012:role/taskapp-jwt-rotation"
    group = stack.group("TaskApp-JwtRotation-SG")
    assert config["VpcConfig"]["SecurityGroupIds"] == [group["GroupId"]]
    assert len(config["VpcConfig"]["SubnetIds"]) == 3
    assert {(p["FromPort"], r["CidrIp"]) for p in group["IpPermissionsEgress"] for r in p["IpRanges"]} == {
        (443, "10.0.0.0/16")}
    assert _ingress(group) == set()

    (statement,) = json.loads(lam.get_policy(FunctionName="taskapp-jwt-rotation")["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "secretsmanager.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceAccount": "123456789012"}}
    document = stack.client("iam").get_role_policy(RoleName="taskapp-jwt-rotation",
                                                   PolicyName="taskapp-jwt-rotation")["PolicyDocument"]
    statements = {s["Sid"]: s for s in (json.loads(document) if isinstance(document, str) else document)["Statement"]}
    assert statements["RotateTheAppSecret"]["Resource"] == (
        "arn:aws:secretsmanager:eu-central-1:123456789012:secret:taskapp/app-??????")
    assert stack.client("logs").describe_log_groups(
        logGroupNamePrefix="/aws/lambda/taskapp-jwt-rotation")["logGroups"][0]["retentionInDays"] == 30
    policy = json.loads(secrets.get_resource_policy(SecretId="taskapp/app")["ResourcePolicy"])
    assert not _denied(policy, "arn:aws:iam::123456789012:role/taskapp-jwt-rotation")


def test_tables_follow_the_shared_definition(stack: Stack) -> None:
    ddb = stack.client("dynamodb")
    for table in TABLES:
        desc = ddb.describe_table(TableName=table["name"])["Table"]
        keys = {k["KeyType"]: k["AttributeName"] for k in desc["KeySchema"]}
        assert keys.get("HASH") == table["hash_key_name"]
        assert keys.get("RANGE") == table.get("range_key_name")
        assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert sorted(i["IndexName"] for i in desc.get("GlobalSecondaryIndexes", [])) == sorted(
            i["name"] for i in table["indexes"])
        # Encrypted with an AWS owned key (the seed): DynamoDB then reports no SSEDescription.
        assert "SSEDescription" not in desc or desc["SSEDescription"]["Status"] == "ENABLED"
        pitr = ddb.describe_continuous_backups(TableName=table["name"])["ContinuousBackupsDescription"]
        assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        if table["ttl_attribute"]:
            ttl = ddb.describe_time_to_live(TableName=table["name"])["TimeToLiveDescription"]
            assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": table["ttl_attribute"]}
    items = ddb.describe_table(TableName="autobuy_items")["Table"]
    gsi = {i["IndexName"]: {k["KeyType"]: k["AttributeName"] for k in i["KeySchema"]}
           for i in items["GlobalSecondaryIndexes"]}
    assert gsi["userId-lastChecked-index"] == {"HASH": "userId", "RANGE": "lastChecked"}
    # No table restored into use yet: the parameter the instances read at boot is empty.
    parameter = stack.client("ssm").get_parameter(Name="/taskapp/dynamodb-table-names")["Parameter"]
    assert (parameter["Type"], parameter["Value"]) == ("String", "{}")


def test_registry_scans_on_push_and_keeps_ten_images(stack: Stack) -> None:
    ecr = stack.client("ecr")
    repo = ecr.describe_repositories(repositoryNames=["taskapp-backend"])["repositories"][0]
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    assert repo["encryptionConfiguration"]["encryptionType"] == "AES256"
    policy = json.loads(ecr.get_lifecycle_policy(repositoryName="taskapp-backend")["lifecyclePolicyText"])
    (rule,) = policy["rules"]
    assert rule["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10}
    assert rule["action"] == {"type": "expire"}


def test_checks_queue_redrives_to_its_dead_letter_queue(stack: Stack) -> None:
    sqs = stack.client("sqs")
    queue = sqs.get_queue_url(QueueName="autobuy-checks")["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName="autobuy-checks-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.loads(sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq_arn
    assert int(redrive["maxReceiveCount"]) == 5


# --- Edge -------------------------------------------------------------------------

def _zone_records(stack: Stack) -> list[dict[str, Any]]:
    r53 = stack.client("route53")
    zone = next(z for z in r53.list_hosted_zones()["HostedZones"] if z["Name"] == DOMAIN + ".")
    return r53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]


def test_certificate_is_issued_for_the_wildcard_and_apex(stack: Stack) -> None:
    acm = stack.client("acm")
    (summary,) = [c for c in acm.list_certificates()["CertificateSummaryList"]
                  if c["DomainName"] == "*." + DOMAIN]
    cert = acm.describe_certificate(CertificateArn=summary["CertificateArn"])["Certificate"]
    assert cert["Status"] == "ISSUED"
    assert sorted(cert["SubjectAlternativeNames"]) == sorted(["*." + DOMAIN, DOMAIN])
    names = {r["Name"] for r in _zone_records(stack) if r["Type"] == "CNAME"}
    for option in cert["DomainValidationOptions"]:
        assert option["ResourceRecord"]["Name"] in names


def _alb(stack: Stack) -> dict[str, Any]:
    return stack.client("elbv2").describe_load_balancers(Names=["taskapp-alb"])["LoadBalancers"][0]


def test_load_balancer_redirects_http_and_serves_tls13(stack: Stack) -> None:
    elb = stack.client("elbv2")
    alb = _alb(stack)
    assert (alb["Scheme"], alb["State"]["Code"]) == ("internet-facing", "active")
    assert alb["SecurityGroups"] == [stack.group("TaskApp-ALB-SG")["GroupId"]]
    subnets = {s["CidrBlock"] for s in stack.client("ec2").describe_subnets(
        SubnetIds=[z["SubnetId"] for z in alb["AvailabilityZones"]])["Subnets"]}
    assert subnets == {"10.0.1.0/24", "10.0.2.0/24", "10.0.5.0/24"}
    listeners = {li["Port"]: li for li in elb.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]}
    assert set(listeners) == {80, 443}
    redirect = listeners[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    assert redirect["RedirectConfig"]["Port"] == "443"
    assert redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["Certificates"][0]["CertificateArn"].startswith("arn:aws:acm:")
    tg = elb.describe_target_groups(Names=["taskapp-backend-tg"])["TargetGroups"][0]
    assert https["DefaultActions"][0]["TargetGroupArn"] == tg["TargetGroupArn"]
    attributes = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(
        LoadBalancerArn=alb["LoadBalancerArn"])["Attributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"


def test_target_group_matches_the_seed(stack: Stack) -> None:
    elb = stack.client("elbv2")
    tg = elb.describe_target_groups(Names=["taskapp-backend-tg"])["TargetGroups"][0]
    assert (tg["Protocol"], tg["Port"], tg["HealthCheckPath"]) == ("HTTP", 80, "/health")
    assert (tg["HealthCheckIntervalSeconds"], tg["HealthCheckTimeoutSeconds"]) == (30, 5)
    assert (tg["HealthyThresholdCount"], tg["UnhealthyThresholdCount"]) == (2, 3)
    assert tg["Matcher"]["HttpCode"] == "200"
    attributes = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(
        TargetGroupArn=tg["TargetGroupArn"])["Attributes"]}
    assert attributes["stickiness.enabled"] == "true"
    assert attributes["stickiness.type"] == "lb_cookie"
    assert attributes["stickiness.lb_cookie.duration_seconds"] == "3600"
    assert attributes["deregistration_delay.timeout_seconds"] == "30"


def test_api_record_is_an_alias_of_the_load_balancer(stack: Stack) -> None:
    (record,) = [r for r in _zone_records(stack) if r["Name"] == f"api.{DOMAIN}." and r["Type"] == "A"]
    assert record["AliasTarget"]["DNSName"].rstrip(".").lower() == _alb(stack)["DNSName"].lower()


# --- Compute ----------------------------------------------------------------------

def test_launch_template_is_hardened_and_boots_the_app(stack: Stack) -> None:
    ec2 = stack.client("ec2")
    version = ec2.describe_launch_template_versions(
        LaunchTemplateName="taskapp-backend-lt", Versions=["$Latest"])["LaunchTemplateVersions"][0]
    data = version["LaunchTemplateData"]
    image = ec2.describe_images(ImageIds=[data["ImageId"]])["Images"][0]
    newest = max(ec2.describe_images(Owners=["136693071363"], Filters=[
        {"Name": "name", "Values": ["debian-12-amd64-*"]}])["Images"], key=lambda i: i["CreationDate"])
    assert image["ImageId"] == newest["ImageId"] and image["OwnerId"] == "136693071363"
    assert data["InstanceType"] == "t2.micro"
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    # 2: the app's containers, one hop behind the instance, get the role's credentials.
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 2
    (root,) = data["BlockDeviceMappings"]
    assert root["Ebs"]["VolumeType"] == "gp3" and root["Ebs"]["Encrypted"] is True
    assert data["IamInstanceProfile"]["Arn"].endswith(":instance-profile/EC2-ECR-SecretsManager-Role")
    # The groups on the interface, which asks for no public address (instances go out
    # through the NAT instance).
    (interface,) = data["NetworkInterfaces"]
    assert (interface["DeviceIndex"], interface["AssociatePublicIpAddress"], interface["Groups"]) == (
        0, False, [stack.group("TaskApp-WebServer-SG")["GroupId"]])
    assert "SecurityGroupIds" not in data
    script = base64.b64decode(data["UserData"]).decode()
    # Installed from Debian's archive when the AMI lacks them (a bare Debian 12 AMI); a golden
    # AMI (playbooks/tasks/golden_ami.yml) has them.
    for command, package in (("docker", "docker.io"), ("aws", "awscli"), ("jq", "jq")):
        assert f"command -v {command} >/dev/null || MISSING+=({package})" in script
    assert 'apt-get install -y -q "${MISSING[@]}"' in script
    assert "secretsmanager get-secret-value --secret-id taskapp/database" in script
    assert "docker login --username AWS --password-stdin" in script
    # The containers' docker run lines come from roles/app's settings (test_user_data_run.py):
    # the API published on 80 -> 5000, every container reading the env file the script writes.
    assert "--publish 0.0.0.0:80:5000" in script
    assert script.count("--env-file /etc/autobuy/taskapp-backend.env") == 3
    assert 'ENV_FILE="$ENV_DIR/taskapp-backend.env"' in script
    assert "chmod 0600" in script and "set -x" not in script
    secret = json.loads(stack.client("secretsmanager").get_secret_value(SecretId="taskapp/database")["SecretString"])
    assert secret["password"] not in script


def test_auto_scaling_group_matches_the_seed(stack: Stack) -> None:
    asg = stack.client("autoscaling")
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["taskapp-backend-asg"])["AutoScalingGroups"][0]
    assert (group["MinSize"], group["DesiredCapacity"], group["MaxSize"]) == (1, 1, 3)
    assert (group["HealthCheckType"], group["HealthCheckGracePeriod"]) == ("ELB", 300)
    tg = stack.client("elbv2").describe_target_groups(Names=["taskapp-backend-tg"])["TargetGroups"][0]
    assert group["TargetGroupARNs"] == [tg["TargetGroupArn"]]
    assert group["LaunchTemplate"]["LaunchTemplateName"] == "taskapp-backend-lt"
    subnets = {s["CidrBlock"] for s in stack.client("ec2").describe_subnets(
        SubnetIds=group["VPCZoneIdentifier"].split(","))["Subnets"]}
    assert subnets == {"10.0.3.0/24", "10.0.4.0/24", "10.0.6.0/24"}
    # The group's instances have no public address (the private subnets map none).
    ids = [i["InstanceId"] for i in group["Instances"]]
    assert ids
    for reservation in stack.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]:
        for instance in reservation["Instances"]:
            assert "PublicIpAddress" not in instance, instance["InstanceId"]
            assert [g["GroupName"] for g in instance["SecurityGroups"]] == ["TaskApp-WebServer-SG"]
    (policy,) = asg.describe_policies(AutoScalingGroupName="taskapp-backend-asg")["ScalingPolicies"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    config = policy["TargetTrackingConfiguration"]
    assert config["TargetValue"] == 70.0
    assert config["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ASGAverageCPUUtilization"


# --- Monitoring -------------------------------------------------------------------

def test_alarms_notify_the_alerts_topic(stack: Stack) -> None:
    topics = [t["TopicArn"] for t in stack.client("sns").list_topics()["Topics"]]
    (topic,) = [t for t in topics if t.endswith(":taskapp-alerts")]
    alarms = {a["AlarmName"]: a for a in stack.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    expected = {
        "taskapp-alb-5xx": ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"),
        "taskapp-unhealthy-hosts": ("AWS/ApplicationELB", "UnHealthyHostCount"),
        "taskapp-asg-cpu-high": ("AWS/EC2", "CPUUtilization"),
        "taskapp-rds-cpu-high": ("AWS/RDS", "CPUUtilization"),
        "taskapp-rds-free-storage-low": ("AWS/RDS", "FreeStorageSpace"),
    }
    assert set(expected) <= set(alarms)
    for name, (namespace, metric) in expected.items():
        assert (alarms[name]["Namespace"], alarms[name]["MetricName"]) == (namespace, metric)
        assert alarms[name]["AlarmActions"] == [topic]
    dims = {d["Name"]: d["Value"] for d in alarms["taskapp-alb-5xx"]["Dimensions"]}
    assert dims["LoadBalancer"] == _alb(stack)["LoadBalancerArn"].split(":loadbalancer/")[1]


def test_the_trail_watches_the_account_and_its_alarms_reach_the_alerts_topic(stack: Stack) -> None:
    """The trail tier in the stack (its details: tests/playbooks/test_provisioning_trail.py)."""
    (trail,) = stack.client("cloudtrail").describe_trails()["trailList"]
    assert (trail["Name"], trail["IsMultiRegionTrail"], trail["LogFileValidationEnabled"]) == (
        "taskapp-trail", True, True)
    assert trail["KmsKeyId"].startswith("arn:aws:kms:")
    assert trail["CloudWatchLogsLogGroupArn"].endswith(":log-group:/autobuy/cloudtrail:*")
    topics = [t["TopicArn"] for t in stack.client("sns").list_topics()["Topics"]]
    (topic,) = [t for t in topics if t.endswith(":taskapp-alerts")]
    cis = stack.client("cloudwatch").describe_alarms(AlarmNamePrefix="taskapp-cis-")["MetricAlarms"]
    assert len(cis) == 15 and all(a["AlarmActions"] == [topic] for a in cis)


def test_log_group_keeps_thirty_days(stack: Stack) -> None:
    groups = stack.client("logs").describe_log_groups(logGroupNamePrefix="/autobuy/taskapp-backend")["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [("/autobuy/taskapp-backend", 30)]


def test_monthly_budget_of_fifty_dollars_notifies_the_topic(stack: Stack) -> None:
    budgets = stack.client("budgets")
    budget = budgets.describe_budget(AccountId="123456789012", BudgetName="taskapp-monthly")["Budget"]
    assert float(budget["BudgetLimit"]["Amount"]) == 50.0 and budget["BudgetLimit"]["Unit"] == "USD"
    assert budget["TimeUnit"] == "MONTHLY"
    (notification,) = budgets.describe_notifications_for_budget(
        AccountId="123456789012", BudgetName="taskapp-monthly")["Notifications"]
    assert (notification["NotificationType"], notification["Threshold"]) == ("ACTUAL", 80.0)


# --- Security hardening (issue 14; docs/security.md) ------------------------------

def _acl_allows(acl: dict[str, Any], port: int, source: str) -> bool:
    """What the ACL does with TCP to ``port`` from address ``source``: the lowest-numbered
    ingress entry that matches decides, as AWS evaluates them (none matches: deny)."""
    for entry in sorted((e for e in acl["Entries"] if not e["Egress"]), key=lambda e: e["RuleNumber"]):
        if entry["Protocol"] not in ("-1", "6"):
            continue
        if ipaddress.ip_address(source) not in ipaddress.ip_network(entry["CidrBlock"]):
            continue
        ports = entry.get("PortRange")
        if entry["Protocol"] == "6" and ports and not ports["From"] <= port <= ports["To"]:
            continue
        return entry["RuleAction"] == "allow"
    return False


def _acl_of(stack: Stack, name: str) -> dict[str, Any]:
    (acl,) = stack.client("ec2").describe_network_acls(
        Filters=[{"Name": "tag:Name", "Values": [name]}, {"Name": "vpc-id", "Values": [stack.vpc_id()]}]
    )["NetworkAcls"]
    return acl


def _subnet_ids(stack: Stack, subnets: list[dict[str, Any]]) -> set[str]:
    found = stack.client("ec2").describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [stack.vpc_id()]},
                 {"Name": "cidr-block", "Values": [s["cidr"] for s in subnets]}])["Subnets"]
    return {s["SubnetId"] for s in found}


def test_public_subnets_acl_lets_in_web_and_replies_only(stack: Stack) -> None:
    acl = _acl_of(stack, "TaskApp-Public-NACL")
    assert {a["SubnetId"] for a in acl["Associations"]} == _subnet_ids(stack, STACK["autobuy_public_subnets"])
    internet = "203.0.113.7"
    assert _acl_allows(acl, 80, internet) and _acl_allows(acl, 443, internet)
    assert _acl_allows(acl, 40000, internet)  # replies to the instances' own connections
    # No admin CIDR in the seed: SSH and RDP are refused from anywhere.
    assert not _acl_allows(acl, 22, internet) and not _acl_allows(acl, 22, "10.0.1.10")
    assert not _acl_allows(acl, 3389, internet)


def test_private_subnets_acl_lets_in_the_balancer_the_instances_and_replies_only(stack: Stack) -> None:
    acl = _acl_of(stack, "TaskApp-Private-NACL")
    assert {a["SubnetId"] for a in acl["Associations"]} == _subnet_ids(stack, STACK["autobuy_private_subnets"])
    internet = "203.0.113.7"
    for subnet in STACK["autobuy_public_subnets"]:  # the balancer (and the NAT instance)
        inside = str(next(ipaddress.ip_network(subnet["cidr"]).hosts()))
        assert _acl_allows(acl, 80, inside), subnet
        assert not _acl_allows(acl, 3306, inside), subnet
        assert not _acl_allows(acl, 22, inside)  # no admin CIDR, no SSH through the bastion
    for subnet in STACK["autobuy_private_subnets"]:  # instances to the database
        inside = str(next(ipaddress.ip_network(subnet["cidr"]).hosts()))
        assert _acl_allows(acl, 3306, inside), subnet
    # Replies from the Internet through the NAT instance (it keeps their source address).
    assert _acl_allows(acl, 40000, internet) and _acl_allows(acl, 1024, internet)
    for port in (80, 443, 22, 3306, 3389):
        assert not _acl_allows(acl, port, internet), port


def test_the_vpc_default_acl_lets_nothing_in_or_out(stack: Stack) -> None:
    (acl,) = stack.client("ec2").describe_network_acls(Filters=[
        {"Name": "vpc-id", "Values": [stack.vpc_id()]},
        {"Name": "default", "Values": ["true"]}])["NetworkAcls"]
    assert not _acl_allows(acl, 443, "203.0.113.7")
    assert not _acl_allows(acl, 22, "10.0.1.10")
    assert [e["RuleAction"] for e in acl["Entries"]] == ["deny", "deny"]


def test_the_vpc_default_security_group_has_no_rules(stack: Stack) -> None:
    (group,) = stack.client("ec2").describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [stack.vpc_id()]},
        {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    assert (group["IpPermissions"], group["IpPermissionsEgress"]) == ([], [])


def test_the_secrets_manager_endpoint_admits_this_accounts_principals_only(stack: Stack) -> None:
    (endpoint,) = [e for e in stack.client("ec2").describe_vpc_endpoints(Filters=[
        {"Name": "vpc-id", "Values": [stack.vpc_id()]}])["VpcEndpoints"]
        if e["ServiceName"].endswith(".secretsmanager")]
    (statement,) = json.loads(endpoint["PolicyDocument"])["Statement"]
    assert statement["Principal"] == "*"
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}


@pytest.mark.parametrize(("role", "service"), [
    ("EC2-ECR-SecretsManager-Role", "ec2.amazonaws.com"),
    ("taskapp-rds-enhanced-monitoring", "monitoring.rds.amazonaws.com"),
    ("taskapp-backup", "backup.amazonaws.com"),
    ("taskapp-db-rotation", "lambda.amazonaws.com"),
    ("taskapp-jwt-rotation", "lambda.amazonaws.com"),
    ("taskapp-cloudtrail-logs", "cloudtrail.amazonaws.com"),
])
def test_service_roles_trust_their_service_for_this_account_only(stack: Stack, role: str, service: str) -> None:
    document = stack.client("iam").get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    (statement,) = document["Statement"]
    assert statement["Principal"] == {"Service": service}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_instances_carry_the_launch_template_hardening(stack: Stack) -> None:
    ec2 = stack.client("ec2")
    reservations = ec2.describe_instances(Filters=[
        {"Name": "tag:aws:autoscaling:groupName", "Values": ["taskapp-backend-asg"]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])["Reservations"]
    instances = [i for r in reservations for i in r["Instances"]]
    assert instances
    for instance in instances:
        assert instance["MetadataOptions"]["HttpTokens"] == "required"
        assert instance["MetadataOptions"]["HttpPutResponseHopLimit"] == 2  # autobuy_imds_hop_limit: the containers use the role
        volume_ids = [m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]]
        volumes = ec2.describe_volumes(VolumeIds=volume_ids)["Volumes"]
        assert [(v["Encrypted"], v["VolumeType"], v["Size"]) for v in volumes] == [(True, "gp3", 8)]


def group_volumes(stack: Stack) -> list[dict[str, Any]]:
    """The volumes of the group's running instances."""
    ec2 = stack.client("ec2")
    reservations = ec2.describe_instances(Filters=[
        {"Name": "tag:aws:autoscaling:groupName", "Values": [STACK["autobuy_asg_name"]]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])["Reservations"]
    volume_ids = [m["Ebs"]["VolumeId"] for r in reservations for i in r["Instances"]
                  for m in i["BlockDeviceMappings"]]
    assert volume_ids
    return ec2.describe_volumes(VolumeIds=volume_ids)["Volumes"]


def volume_arn(volume: dict[str, Any]) -> str:
    return f"arn:aws:ec2:eu-central-1:123456789012:volume/{volume['VolumeId']}"


def recovery_points(stack: Stack, volume: dict[str, Any]) -> list[dict[str, Any]]:
    return stack.client("backup").list_recovery_points_by_backup_vault(
        BackupVaultName=STACK["autobuy_backup_vault_name"],
        ByResourceArn=volume_arn(volume))["RecoveryPoints"]


def test_every_instance_volume_is_backed_up_from_the_first_converge(stack: Stack) -> None:
    """The volumes join the plan's volume selection by tag, and each has a recovery point
    (an on-demand backup kept as the plan keeps its own) before the next 03:00 run: the
    snapshot prowler's ec2_ebs_volume_snapshots_exists looks for (owner self, VolumeId)."""
    ec2 = stack.client("ec2")
    own_snapshots = ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    for volume in group_volumes(stack):
        tags = {t["Key"]: t["Value"] for t in volume.get("Tags", [])}
        assert tags["Backup"] == STACK["autobuy_backup_plan_name"], tags
        (point,) = recovery_points(stack, volume)
        assert point["Status"] == "COMPLETED"
        assert point["Lifecycle"] == {"DeleteAfterDays": 7}
        assert point["IamRoleArn"].endswith(":role/" + STACK["autobuy_backup_role_name"])
        snapshot_id = point["RecoveryPointArn"].rsplit("/", 1)[1]
        assert [s["VolumeId"] for s in own_snapshots if s["SnapshotId"] == snapshot_id] == [
            volume["VolumeId"]]


def test_ebs_encryption_is_on_by_default(stack: Stack) -> None:
    assert stack.client("ec2").get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True


def test_alerts_topic_is_encrypted_with_our_key(stack: Stack) -> None:
    (topic,) = [t["TopicArn"] for t in stack.client("sns").list_topics()["Topics"]
                if t["TopicArn"].endswith(":" + STACK["autobuy_sns_topic"])]
    key_id = stack.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]["KmsMasterKeyId"]
    kms = stack.client("kms")
    key = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert key["KeyManager"] == "CUSTOMER" and key["KeyState"] == "Enabled"
    aliases = kms.list_aliases(KeyId=key["KeyId"])["Aliases"]
    assert [a["AliasName"] for a in aliases] == [STACK["autobuy_sns_kms_alias"]]
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    services = {s for st in policy["Statement"] for s in st["Principal"].get("Service", [])}
    assert {"cloudwatch.amazonaws.com", "budgets.amazonaws.com"} <= services


# --- Idempotence, check mode, tiers alone ----------------------------------------------

def test_a_jwt_key_rotation_on_the_stack_keeps_the_app_secret_whole(stack: Stack) -> None:
    """playbooks/rotate_jwt_key.yml on the converged stack; the next converges (below: second
    run, check mode, the data tier alone) must keep its keyring and change nothing."""
    secrets = stack.client("secretsmanager")
    before = json.loads(secrets.get_secret_value(SecretId="taskapp/app")["SecretString"])
    assert_ok(run_playbook("playbooks/rotate_jwt_key.yml", stack.url,
                           extra={"autobuy_jwt_settle_seconds": 1}))
    after = json.loads(secrets.get_secret_value(SecretId="taskapp/app")["SecretString"])
    assert after["jwt_keys"]["k0"] == before["jwt_signing_key"]
    assert after["jwt_signing_key"] == after["jwt_keys"][after["jwt_current_kid"]]
    # The schedule had added a key: the playbook promoted it. Nothing else changed.
    assert after["jwt_current_kid"] != before["jwt_current_kid"] and after["jwt_current_kid"] in before["jwt_keys"]
    assert {k: after[k] for k in before if not k.startswith("jwt_")} == \
        {k: v for k, v in before.items() if not k.startswith("jwt_")}
    assert secrets.describe_secret(SecretId="taskapp/app")["RotationEnabled"]


def test_second_run_changes_nothing(stack: Stack) -> None:
    """Also when a JWT key rotation came before (the test above, when it runs): the converge
    keeps the app secret's keyring as it found it."""
    def app_secret() -> dict[str, Any]:
        return json.loads(stack.client("secretsmanager").get_secret_value(SecretId="taskapp/app")["SecretString"])

    before = app_secret()
    assert_ok(run_playbook("site.yml", stack.url, extra=stack.web), changed=0)
    assert app_secret() == before


def test_check_mode_on_the_converged_stack_changes_nothing(stack: Stack) -> None:
    assert_ok(run_playbook("site.yml", stack.url, "--check", "--diff", extra=stack.web), changed=0)


@pytest.mark.parametrize("tier", ["network", "security", "data", "backup", "edge", "frontend", "compute",
                                  "monitoring", "trail"])
def test_each_tier_runs_alone(stack: Stack, tier: str) -> None:
    run = run_playbook("site.yml", stack.url, "--tags", tier, extra=stack.web)
    assert_ok(run, changed=0)
    plays = [line for line in run.output.splitlines() if line.startswith("PLAY [")]
    assert any(line.startswith(f"PLAY [{tier.capitalize()}]") for line in plays), plays


def test_a_replaced_instance_volume_is_backed_up_by_the_next_converge(stack: Stack) -> None:
    """An instance replaced (as an instance refresh or a failed health check does) brings a
    volume without a backup: --check says so and starts nothing, the compute tier backs it
    up, and the run after that changes nothing."""
    before = {v["VolumeId"] for v in group_volumes(stack)}
    asg = stack.client("autoscaling")
    (group,) = asg.describe_auto_scaling_groups(
        AutoScalingGroupNames=[STACK["autobuy_asg_name"]])["AutoScalingGroups"]
    asg.terminate_instance_in_auto_scaling_group(
        InstanceId=group["Instances"][0]["InstanceId"], ShouldDecrementDesiredCapacity=False)
    (new,) = [v for v in group_volumes(stack) if v["VolumeId"] not in before]
    assert recovery_points(stack, new) == []

    check = run_playbook("site.yml", stack.url, "--tags", "compute", "--check", extra=stack.web)
    assert_ok(check, changed=1)
    assert recovery_points(stack, new) == []
    assert stack.client("backup").list_backup_jobs(ByResourceArn=volume_arn(new))["BackupJobs"] == []

    assert_ok(run_playbook("site.yml", stack.url, "--tags", "compute", extra=stack.web), changed=1)
    (point,) = recovery_points(stack, new)
    assert point["Status"] == "COMPLETED"
    assert_ok(run_playbook("site.yml", stack.url, "--tags", "compute", extra=stack.web), changed=0)


# --- Teardown (last) ----------------------------------------------------------------

def test_teardown_removes_everything(stack: Stack) -> None:
    assert_ok(run_playbook("teardown.yml", stack.url))
    c = stack.client
    assert c("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["TaskApp-VPC"]}])["Vpcs"] == []
    assert c("rds").describe_db_instances()["DBInstances"] == []
    assert c("rds").describe_db_subnet_groups()["DBSubnetGroups"] == []
    assert "taskapp-mysql" not in [g["DBParameterGroupName"] for g in
                                   c("rds").describe_db_parameter_groups()["DBParameterGroups"]]
    assert c("dynamodb").list_tables()["TableNames"] == []
    assert c("secretsmanager").list_secrets()["SecretList"] == []
    assert c("ssm").describe_parameters()["Parameters"] == []
    assert c("ecr").describe_repositories()["repositories"] == []
    assert c("sqs").list_queues().get("QueueUrls", []) == []
    assert c("elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert c("elbv2").describe_target_groups()["TargetGroups"] == []
    assert c("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"] == []
    assert c("ec2").describe_launch_templates()["LaunchTemplates"] == []
    assert [z for z in c("route53").list_hosted_zones()["HostedZones"] if z["Name"] == DOMAIN + "."] == []
    assert c("acm").list_certificates()["CertificateSummaryList"] == []
    assert c("sns").list_topics()["Topics"] == []
    assert [a for a in c("cloudwatch").describe_alarms()["MetricAlarms"] if a["AlarmName"].startswith("taskapp-")] == []
    assert c("logs").describe_log_groups(logGroupNamePrefix="/autobuy/")["logGroups"] == []
    assert c("iam").list_instance_profiles()["InstanceProfiles"] == []
    assert [r for r in c("iam").list_roles()["Roles"] if r["RoleName"] in (
        "EC2-ECR-SecretsManager-Role", "taskapp-rds-enhanced-monitoring", "taskapp-db-rotation",
        "taskapp-jwt-rotation", "taskapp-cloudtrail-logs")] == []
    assert c("lambda").list_functions()["Functions"] == []
    assert [e for e in c("ec2").describe_vpc_endpoints()["VpcEndpoints"] if e["State"] != "deleted"] == []
    assert c("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"] == []
    assert c("budgets").describe_budgets(AccountId="123456789012").get("Budgets", []) == []
    assert c("cloudfront").list_distributions()["DistributionList"].get("Items") in (None, [])
    assert STACK["autobuy_domain"].replace(".", "-") + "-web" not in [b["Name"] for b in c("s3").list_buckets()["Buckets"]]
    assert c("cloudtrail").describe_trails()["trailList"] == []
    assert STACK["autobuy_domain"].replace(".", "-") + "-cloudtrail" not in [
        b["Name"] for b in c("s3").list_buckets()["Buckets"]]


def test_teardown_removes_the_acls_the_key_and_the_ebs_setting(stack: Stack) -> None:
    """After test_teardown_removes_everything: the hardening leaves nothing behind (the key
    only waits out KMS's deletion window, the shortest AWS allows), the NAT instance is
    terminated."""
    nat = [i["State"]["Name"] for r in stack.client("ec2").describe_instances(Filters=[
        {"Name": "tag:Name", "Values": ["TaskApp-NAT"]}])["Reservations"] for i in r["Instances"]]
    assert nat and set(nat) == {"terminated"}
    acls = stack.client("ec2").describe_network_acls(
        Filters=[{"Name": "tag:Name", "Values": ["TaskApp-Public-NACL", "TaskApp-Private-NACL"]}])
    assert acls["NetworkAcls"] == []
    assert stack.client("ec2").get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    kms = stack.client("kms")
    (alias,) = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == STACK["autobuy_sns_kms_alias"]]
    assert kms.describe_key(KeyId=alias["TargetKeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion"


def test_teardown_keeps_the_volumes_backups_by_design(stack: Stack) -> None:
    """After test_teardown_removes_everything: the plan and its selections are gone, the
    vault stays with the volumes' recovery points (as the database's and the tables'
    would: a restore after a teardown is what they are for; they expire after 7 days)."""
    backup = stack.client("backup")
    assert [p for p in backup.list_backup_plans()["BackupPlansList"]
            if p["BackupPlanName"] == STACK["autobuy_backup_plan_name"]] == []
    (vault,) = [v for v in backup.list_backup_vaults()["BackupVaultList"]
                if v["BackupVaultName"] == STACK["autobuy_backup_vault_name"]]
    points = backup.list_recovery_points_by_backup_vault(
        BackupVaultName=STACK["autobuy_backup_vault_name"])["RecoveryPoints"]
    assert vault["NumberOfRecoveryPoints"] == len(points) >= STACK["autobuy_asg_min_size"]
    assert {p["ResourceType"] for p in points} == {"EBS"}


def test_second_teardown_changes_nothing(stack: Stack) -> None:
    assert_ok(run_playbook("teardown.yml", stack.url), changed=0)


def test_local_cloud_knows_the_rds_monitoring_managed_policy(stack: Stack) -> None:
    """Gap fill localcloud/ext/fidelity/iam_managed_policies.py through boto3."""
    arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    assert stack.client("iam").get_policy(PolicyArn=arn)["Policy"]["Arn"] == arn


def test_local_cloud_launches_from_a_template_version_with_user_data(stack: Stack) -> None:
    """Gap fill localcloud/ext/fidelity/ec2_launch_template_user_data.py: a group on
    version 2 with user data."""
    ec2, asg = stack.client("ec2"), stack.client("autoscaling")
    image = ec2.describe_images(Owners=["136693071363"])["Images"][0]["ImageId"]
    user_data = base64.b64encode(b"#!/bin/sh\necho hello\n").decode()
    ec2.create_launch_template(LaunchTemplateName="gapfill", LaunchTemplateData={"ImageId": image})
    ec2.create_launch_template_version(LaunchTemplateName="gapfill",
                                       LaunchTemplateData={"ImageId": image, "UserData": user_data})
    try:
        asg.create_auto_scaling_group(
            AutoScalingGroupName="gapfill", MinSize=1, MaxSize=1, DesiredCapacity=1,
            AvailabilityZones=["eu-central-1a"],
            LaunchTemplate={"LaunchTemplateName": "gapfill", "Version": "2"})
        group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["gapfill"])["AutoScalingGroups"][0]
        assert len(group["Instances"]) == 1
    finally:
        asg.delete_auto_scaling_group(AutoScalingGroupName="gapfill", ForceDelete=True)
        ec2.delete_launch_template(LaunchTemplateName="gapfill")
