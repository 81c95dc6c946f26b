# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of the stack variables before any API call (playbooks/preflight.yml).

``{{ stack | autobuy_stack_errors }}`` returns a list of messages, each naming the
variable at fault; an empty list means the stack is valid. Pure Python (ipaddress,
re) so it runs on a bare controller without netaddr.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

DOCUMENTATION = """
  name: autobuy_stack_errors
  short_description: List what is wrong with the AutoBuy Guard stack variables
  description:
    - Takes a dict of the C(autobuy_*) variables (as built in playbooks/preflight.yml)
      and returns one message per problem, each naming the variable.
  positional: _input
  options:
    _input:
      description: Dict of variable name to value.
      type: dict
      required: true
"""

EXAMPLES = """
- name: Fail on invalid stack variables
  ansible.builtin.assert:
    that: errors | length == 0
    fail_msg: "{{ errors | join('; ') }}"
  vars:
    errors: "{{ {'autobuy_vpc_cidr': autobuy_vpc_cidr} | autobuy_stack_errors }}"
"""

RETURN = """
  _value:
    description: Messages, empty when every variable is valid.
    type: list
    elements: str
"""

Errors = list[str]

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_SCHEDULE = re.compile(r"^(cron\((\S+ ){5}\S+\)|rate\(\d+ (minute|hour|day)s?\))$")
_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[^*?\s]+$")
_PREFIX = re.compile(r"^[A-Za-z0-9_.\-]*$")
_LOG_RETENTION = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                  1827, 2192, 2557, 2922, 3288, 3653}
_MONITORING_INTERVALS = {0, 1, 5, 10, 15, 30, 60}


def _network(value: Any) -> ipaddress.IPv4Network | None:
    """The IPv4 network a CIDR string names, or None when it is not one."""
    if not isinstance(value, str) or "/" not in value:
        return None
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_range(name: str, value: Any, low: int, high: int) -> Errors:
    if not _is_int(value) or not low <= value <= high:
        return [f"{name} must be an integer from {low} to {high} (got {value!r})"]
    return []


def domain_errors(name: str, value: Any) -> Errors:
    """RFC 1123 host name with at least two labels and an alphabetic TLD."""
    if not isinstance(value, str) or not value:
        return [f"{name} must be a domain name such as example.com (got {value!r})"]
    labels = value.lower().rstrip(".").split(".")
    if (len(value) > 253 or len(labels) < 2 or not all(_LABEL.match(lbl) for lbl in labels)
            or not _TLD.match(labels[-1])):
        return [f"{name} is not a valid domain name: {value!r}"]
    return []


def network_errors(v: Mapping[str, Any]) -> Errors:
    """VPC CIDR, subnets inside it, no overlaps, AZs of the region."""
    errors: Errors = []
    vpc = _network(v.get("autobuy_vpc_cidr"))
    if vpc is None:
        return [f"autobuy_vpc_cidr must be an IPv4 CIDR such as 10.0.0.0/16 "
                f"(got {v.get('autobuy_vpc_cidr')!r})"]
    if not 16 <= vpc.prefixlen <= 28:
        errors.append(f"autobuy_vpc_cidr {vpc} must have a prefix from /16 to /28 (AWS limit)")
    region = v.get("autobuy_region", "")
    seen: list[tuple[str, ipaddress.IPv4Network]] = []
    for var in ("autobuy_public_subnets", "autobuy_private_subnets"):
        subnets = v.get(var)
        if not isinstance(subnets, list) or len(subnets) < 2:
            errors.append(f"{var} must list at least two subnets (ALB and RDS need two AZs)")
            continue
        azs = set()
        for i, subnet in enumerate(subnets):
            where = f"{var}[{i}]"
            if not isinstance(subnet, Mapping):
                errors.append(f"{where} must be a dict with name, cidr and az")
                continue
            if not isinstance(subnet.get("name"), str) or not subnet.get("name"):
                errors.append(f"{where}.name must be a non-empty string")
            az = subnet.get("az")
            if not isinstance(az, str) or not re.fullmatch(re.escape(str(region)) + r"[a-z]", az):
                errors.append(f"{where}.az {az!r} is not an availability zone of "
                              f"autobuy_region {region!r}")
            else:
                azs.add(az)
            net = _network(subnet.get("cidr"))
            if net is None:
                errors.append(f"{where}.cidr must be an IPv4 CIDR (got {subnet.get('cidr')!r})")
                continue
            if not net.subnet_of(vpc):
                errors.append(f"{where}.cidr {net} is outside autobuy_vpc_cidr {vpc}")
            if not 16 <= net.prefixlen <= 28:
                errors.append(f"{where}.cidr {net} must have a prefix from /16 to /28")
            for other_where, other in seen:
                if net.overlaps(other):
                    errors.append(f"{where}.cidr {net} overlaps {other_where}.cidr {other}")
            seen.append((where, net))
        if len(azs) < 2:
            errors.append(f"{var} must span at least two availability zones")
    return errors + nat_errors(v)


def nat_errors(v: Mapping[str, Any]) -> Errors:
    """The NAT instance's type and image (its architecture must match the type's)."""
    errors: Errors = []
    for name in ("autobuy_nat_name", "autobuy_nat_sg_name", "autobuy_nat_instance_type",
                 "autobuy_nat_ami_name_filter"):
        if not isinstance(v.get(name), str) or not v.get(name):
            errors.append(f"{name} must be a non-empty string")
    arch = v.get("autobuy_nat_ami_architecture")
    if arch not in ("arm64", "x86_64"):
        errors.append(f"autobuy_nat_ami_architecture must be arm64 or x86_64 (got {arch!r})")
    elif isinstance(v.get("autobuy_nat_instance_type"), str):
        family = v["autobuy_nat_instance_type"].split(".")[0]
        graviton = bool(re.fullmatch(r"[a-z]+\d+g[a-z]*", family))
        if graviton != (arch == "arm64"):
            errors.append(f"autobuy_nat_ami_architecture {arch} does not run on "
                          f"autobuy_nat_instance_type {v['autobuy_nat_instance_type']} "
                          "(Graviton types such as t4g take arm64, the others x86_64)")
    return errors


def security_errors(v: Mapping[str, Any]) -> Errors:
    errors: Errors = []
    for name in ("autobuy_http_port", "autobuy_https_port", "autobuy_ssh_port",
                 "autobuy_instance_port", "autobuy_app_port", "autobuy_db_port"):
        errors += _int_range(name, v.get(name), 1, 65535)
    admin = v.get("autobuy_admin_cidr")
    if admin not in (None, ""):
        net = _network(admin)
        if net is None:
            errors.append(f"autobuy_admin_cidr must be an IPv4 CIDR or null (got {admin!r})")
        elif net.prefixlen == 0:
            errors.append("autobuy_admin_cidr must not open SSH to the whole internet (0.0.0.0/0)")
    admins = v.get("autobuy_secret_admin_arns")
    if not isinstance(admins, list) or not all(
            isinstance(a, str) and _PRINCIPAL.match(a) for a in admins):
        errors.append("autobuy_secret_admin_arns must be a list of IAM role or user ARNs "
                      f"(arn:aws:iam::ACCOUNT:role/NAME), no wildcards (got {admins!r})")
    return errors


def data_errors(v: Mapping[str, Any]) -> Errors:
    errors: Errors = []
    errors += _int_range("autobuy_db_allocated_storage", v.get("autobuy_db_allocated_storage"),
                         5, 65536)
    errors += _int_range("autobuy_db_backup_retention_days",
                         v.get("autobuy_db_backup_retention_days"), 0, 35)
    errors += _int_range("autobuy_db_password_length", v.get("autobuy_db_password_length"), 16, 41)
    # 0 = no rotation schedule; Secrets Manager takes 1 to 1000 days.
    errors += _int_range("autobuy_db_rotation_days", v.get("autobuy_db_rotation_days"), 0, 1000)
    errors += _int_range("autobuy_db_rotation_timeout", v.get("autobuy_db_rotation_timeout"), 5, 900)
    errors += _int_range("autobuy_jwt_rotation_days", v.get("autobuy_jwt_rotation_days"), 0, 1000)
    errors += _int_range("autobuy_jwt_rotation_timeout", v.get("autobuy_jwt_rotation_timeout"), 3, 900)
    errors += _int_range("autobuy_ecr_keep_images", v.get("autobuy_ecr_keep_images"), 1, 1000)
    if v.get("autobuy_db_monitoring_interval") not in _MONITORING_INTERVALS:
        errors.append(f"autobuy_db_monitoring_interval must be one of "
                      f"{sorted(_MONITORING_INTERVALS)} (got {v.get('autobuy_db_monitoring_interval')!r})")
    window = _WINDOW.match(str(v.get("autobuy_db_backup_window", "")))
    if not window:
        errors.append(f"autobuy_db_backup_window must look like 03:00-04:00 "
                      f"(got {v.get('autobuy_db_backup_window')!r})")
    else:
        h1, m1, h2, m2 = (int(x) for x in window.groups())
        if ((h2 * 60 + m2) - (h1 * 60 + m1)) % 1440 < 30:
            errors.append("autobuy_db_backup_window must be at least 30 minutes long")
    if not isinstance(v.get("autobuy_db_deletion_protection"), bool):
        errors.append("autobuy_db_deletion_protection must be true or false")
    if not _PREFIX.match(str(v.get("autobuy_table_prefix") or "")):
        errors.append("autobuy_table_prefix may contain only letters, digits, '_', '.' and '-'")
    if v.get("autobuy_dynamodb_sse_type") not in ("AWS_OWNED", "KMS"):
        errors.append("autobuy_dynamodb_sse_type must be AWS_OWNED or KMS")
    for name in ("autobuy_db_identifier", "autobuy_ecr_repository", "autobuy_checks_queue",
                 "autobuy_checks_dlq"):
        if not isinstance(v.get(name), str) or not _NAME.match(v.get(name, "")):
            errors.append(f"{name} must be a non-empty name of letters, digits, '_', '.', '-'")
    if not v.get("aws_endpoint_url"):
        for name in ("autobuy_stripe_secret_key", "autobuy_stripe_webhook_secret",
                     "autobuy_google_client_id"):
            if not v.get(name):
                errors.append(f"{name} must be set on AWS (development values are used "
                              f"only on a local cloud)")
    return errors


def backup_errors(v: Mapping[str, Any]) -> Errors:
    errors: Errors = []
    # AWS Backup: a backup must be kept at least a day; 35 keeps within RDS's own limit.
    errors += _int_range("autobuy_backup_retention_days",
                         v.get("autobuy_backup_retention_days"), 1, 35)
    if not _SCHEDULE.match(str(v.get("autobuy_backup_schedule", ""))):
        errors.append(f"autobuy_backup_schedule must be an AWS cron(...) or rate(...) "
                      f"expression (got {v.get('autobuy_backup_schedule')!r})")
    for name in ("autobuy_backup_vault_name", "autobuy_backup_plan_name",
                 "autobuy_backup_selection_name", "autobuy_backup_role_name",
                 "autobuy_backup_volume_selection_name"):
        if not isinstance(v.get(name), str) or not _NAME.match(v.get(name, "")):
            errors.append(f"{name} must be a non-empty name of letters, digits, '_', '.', '-'")
    # The instances' volumes carry this tag (an EC2 tag: key 1-128 characters, not aws:).
    key = v.get("autobuy_backup_volume_tag_key")
    if not isinstance(key, str) or not 0 < len(key) <= 128 or key.lower().startswith("aws:"):
        errors.append(f"autobuy_backup_volume_tag_key must be an EC2 tag key of 1 to 128 "
                      f"characters not starting with aws: (got {key!r})")
    value = v.get("autobuy_backup_volume_tag_value")
    if not isinstance(value, str) or not 0 < len(value) <= 256:
        errors.append(f"autobuy_backup_volume_tag_value must be a tag value of 1 to 256 "
                      f"characters (got {value!r})")
    errors += _int_range("autobuy_backup_volumes_wait_timeout",
                         v.get("autobuy_backup_volumes_wait_timeout"), 0, 86400)
    return errors


def edge_errors(v: Mapping[str, Any]) -> Errors:
    errors = domain_errors("autobuy_domain", v.get("autobuy_domain"))
    for name in ("autobuy_zone_name", "autobuy_api_record"):
        errors += domain_errors(name, v.get(name))
    cert = str(v.get("autobuy_certificate_domain") or "")
    errors += domain_errors("autobuy_certificate_domain", cert[2:] if cert.startswith("*.") else cert)
    if not str(v.get("autobuy_tls_policy", "")).startswith("ELBSecurityPolicy-"):
        errors.append("autobuy_tls_policy must name an ELB security policy (ELBSecurityPolicy-...)")
    errors += _int_range("autobuy_health_check_interval", v.get("autobuy_health_check_interval"),
                         5, 300)
    errors += _int_range("autobuy_health_check_timeout", v.get("autobuy_health_check_timeout"),
                         2, 120)
    interval, timeout = v.get("autobuy_health_check_interval"), v.get("autobuy_health_check_timeout")
    if _is_int(interval) and _is_int(timeout) and timeout >= interval:
        errors.append(f"autobuy_health_check_timeout ({timeout}) must be less than "
                      f"autobuy_health_check_interval ({interval})")
    errors += _int_range("autobuy_healthy_threshold", v.get("autobuy_healthy_threshold"), 2, 10)
    errors += _int_range("autobuy_unhealthy_threshold", v.get("autobuy_unhealthy_threshold"), 2, 10)
    errors += _int_range("autobuy_stickiness_seconds", v.get("autobuy_stickiness_seconds"),
                         1, 604800)
    errors += _int_range("autobuy_deregistration_delay", v.get("autobuy_deregistration_delay"),
                         0, 3600)
    if not str(v.get("autobuy_health_check_path", "")).startswith("/"):
        errors.append("autobuy_health_check_path must start with '/'")
    return errors


def mail_errors(v: Mapping[str, Any]) -> Errors:
    domain = v.get("autobuy_mail_domain")
    errors = domain_errors("autobuy_mail_domain", domain)
    sender = v.get("autobuy_alerts_from")
    if not (isinstance(sender, str) and _EMAIL.match(sender)):
        errors.append(f"autobuy_alerts_from must be an e-mail address (got {sender!r})")
    elif isinstance(domain, str) and sender.rsplit("@", 1)[1].lower() != domain.lower().rstrip("."):
        errors.append(f"autobuy_alerts_from ({sender}) must be an address of autobuy_mail_domain "
                      f"({domain}): SES sends only from verified identities")
    return errors


_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")


def frontend_errors(v: Mapping[str, Any]) -> Errors:
    errors: Errors = []
    bucket = v.get("autobuy_web_bucket")
    if not (isinstance(bucket, str) and _BUCKET.match(bucket)):
        errors.append(f"autobuy_web_bucket must be an S3 bucket name of 3-63 lowercase letters, digits "
                      f"and hyphens, without dots (CloudFront reaches it over TLS) (got {bucket!r})")
    aliases, zone = v.get("autobuy_web_aliases"), str(v.get("autobuy_zone_name") or "").lower().rstrip(".")
    if not (isinstance(aliases, list) and aliases):
        errors.append(f"autobuy_web_aliases must be a non-empty list of domain names (got {aliases!r})")
    else:
        for alias in aliases:
            bad = domain_errors("autobuy_web_aliases", alias)
            errors += bad
            if not bad and zone and not (alias.lower() == zone or alias.lower().endswith("." + zone)):
                errors.append(f"autobuy_web_aliases: {alias} is not in the zone {zone} (its alias record "
                              "and certificate validation records go there)")
    if v.get("autobuy_web_price_class") not in _PRICE_CLASSES:
        errors.append(f"autobuy_web_price_class must be one of {', '.join(_PRICE_CLASSES)} "
                      f"(got {v.get('autobuy_web_price_class')!r})")
    errors += _int_range("autobuy_web_assets_max_age", v.get("autobuy_web_assets_max_age"), 0, 31536000)
    errors += _int_range("autobuy_web_hsts_seconds", v.get("autobuy_web_hsts_seconds"), 0, 63072000)
    errors += _int_range("autobuy_web_deploy_timeout", v.get("autobuy_web_deploy_timeout"), 60, 7200)
    csp = v.get("autobuy_web_csp")
    if not isinstance(csp, str) or not csp.strip():
        errors.append("autobuy_web_csp must be a Content-Security-Policy")
    else:
        directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
        script = directives.get("script-src", directives.get("default-src", ""))
        if "'unsafe-inline'" in script:
            errors.append("autobuy_web_csp must not allow 'unsafe-inline' scripts")
        if directives.get("frame-ancestors") != "frame-ancestors 'none'":
            errors.append("autobuy_web_csp must hold frame-ancestors 'none' (no site may frame this one)")
    types = v.get("autobuy_web_content_types")
    if not (isinstance(types, Mapping) and types and all(
            isinstance(k, str) and k.startswith(".") and isinstance(t, str) and "/" in t for k, t in types.items())):
        errors.append("autobuy_web_content_types must map file extensions ('.js') to content types "
                      f"('text/javascript') (got {types!r})")
    return errors


def compute_errors(v: Mapping[str, Any]) -> Errors:
    errors: Errors = []
    sizes = {k: v.get(k) for k in ("autobuy_asg_min_size", "autobuy_asg_desired_capacity",
                                   "autobuy_asg_max_size")}
    for name, value in sizes.items():
        errors += _int_range(name, value, 0, 1000)
    if all(_is_int(x) for x in sizes.values()):
        low, desired, high = sizes.values()
        if low > high:
            errors.append(f"autobuy_asg_min_size ({low}) must not exceed autobuy_asg_max_size ({high})")
        elif not low <= desired <= high:
            errors.append(f"autobuy_asg_desired_capacity ({desired}) must lie between "
                          f"autobuy_asg_min_size ({low}) and autobuy_asg_max_size ({high})")
    errors += _int_range("autobuy_asg_health_check_grace_period",
                         v.get("autobuy_asg_health_check_grace_period"), 0, 7200)
    errors += _int_range("autobuy_cpu_target", v.get("autobuy_cpu_target"), 1, 100)
    errors += _int_range("autobuy_root_volume_size", v.get("autobuy_root_volume_size"), 1, 16384)
    if not re.fullmatch(r"\d{12}", str(v.get("autobuy_ami_owner", ""))):
        errors.append("autobuy_ami_owner must be a 12-digit AWS account id (the AMI publisher)")
    if not v.get("autobuy_ami_name_filter"):
        errors.append("autobuy_ami_name_filter must not be empty")
    if v.get("autobuy_asg_health_check_type") not in ("EC2", "ELB"):
        errors.append("autobuy_asg_health_check_type must be EC2 or ELB")
    if "autobuy_imds_hop_limit" in v:
        errors += _int_range("autobuy_imds_hop_limit", v.get("autobuy_imds_hop_limit"), 1, 64)
    instance_endpoint = v.get("autobuy_instance_endpoint_url")
    if instance_endpoint and not re.match(r"^https?://[^\s/]+", str(instance_endpoint)):
        errors.append("autobuy_instance_endpoint_url must be an http(s) URL or empty "
                      f"(got {instance_endpoint!r})")
    dev_signin = v.get("autobuy_dev_signin", False)
    if not isinstance(dev_signin, bool):
        errors.append(f"autobuy_dev_signin must be true or false (got {dev_signin!r})")
    elif dev_signin and not v.get("aws_endpoint_url"):
        errors.append("autobuy_dev_signin must be false on AWS (development sign-in is for "
                      "the local cloud's twin only)")
    stripe_api = v.get("autobuy_stripe_api_url", "https://api.stripe.com")
    if not re.match(r"^https?://[^\s/]+", str(stripe_api)):
        errors.append(f"autobuy_stripe_api_url must be an http(s) URL (got {stripe_api!r})")
    elif not v.get("aws_endpoint_url") and not str(stripe_api).startswith("https://"):
        errors.append("autobuy_stripe_api_url must use https on AWS (the app refuses plain "
                      "HTTP in production)")
    site = v.get("autobuy_site_url", "https://")
    if not re.fullmatch(r"https?://[^\s/?#]+", str(site)):
        errors.append(f"autobuy_site_url must be an http(s) origin without a path (got {site!r})")
    allow = v.get("autobuy_url_allow_hosts", [])
    if not isinstance(allow, list) or not all(
            isinstance(h, str) and re.fullmatch(r"[A-Za-z0-9.-]+(:\d{1,5})?", h) for h in allow):
        errors.append(f"autobuy_url_allow_hosts must be a list of host or host:port (got {allow!r})")
    elif allow and not v.get("aws_endpoint_url"):
        errors.append("autobuy_url_allow_hosts must be empty on AWS (it admits the twin's "
                      "demo shop on a private address)")
    return errors


def monitoring_errors(v: Mapping[str, Any]) -> Errors:
    errors: Errors = []
    email = v.get("autobuy_alert_email")
    if email not in (None, "") and not (isinstance(email, str) and _EMAIL.match(email)):
        errors.append(f"autobuy_alert_email must be an e-mail address or null (got {email!r})")
    if v.get("autobuy_log_retention_days") not in _LOG_RETENTION:
        errors.append(f"autobuy_log_retention_days must be one of CloudWatch Logs' values "
                      f"{sorted(_LOG_RETENTION)} (got {v.get('autobuy_log_retention_days')!r})")
    limit = v.get("autobuy_budget_limit_usd")
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit <= 0:
        errors.append(f"autobuy_budget_limit_usd must be a positive number (got {limit!r})")
    errors += _int_range("autobuy_budget_threshold_percent",
                         v.get("autobuy_budget_threshold_percent"), 1, 1000)
    errors += _int_range("autobuy_alarm_period", v.get("autobuy_alarm_period"), 10, 86400)
    errors += _int_range("autobuy_alarm_evaluation_periods",
                         v.get("autobuy_alarm_evaluation_periods"), 1, 100)
    return errors


def trail_errors(v: Mapping[str, Any]) -> Errors:
    errors: Errors = []
    for name in ("autobuy_trail_bucket", "autobuy_trail_access_log_bucket"):
        bucket = v.get(name)
        if not (isinstance(bucket, str) and _BUCKET.match(bucket)):
            errors.append(f"{name} must be an S3 bucket name of 3-63 lowercase letters, "
                          f"digits and hyphens (got {bucket!r})")
    if v.get("autobuy_trail_access_log_bucket") == v.get("autobuy_trail_bucket"):
        errors.append("autobuy_trail_access_log_bucket must differ from autobuy_trail_bucket "
                      "(a bucket logging its own access logs loops)")
    for name in ("autobuy_trail_name", "autobuy_trail_logs_role_name"):
        if not isinstance(v.get(name), str) or not _NAME.match(v.get(name, "")):
            errors.append(f"{name} must be a non-empty name of letters, digits, '_', '.', '-'")
    if not str(v.get("autobuy_trail_kms_alias", "")).startswith("alias/"):
        errors.append(f"autobuy_trail_kms_alias must be a KMS alias (alias/...) "
                      f"(got {v.get('autobuy_trail_kms_alias')!r})")
    if not str(v.get("autobuy_trail_log_group", "")).startswith("/"):
        errors.append(f"autobuy_trail_log_group must be a log group path starting with / "
                      f"(got {v.get('autobuy_trail_log_group')!r})")
    if v.get("autobuy_trail_log_retention_days") not in _LOG_RETENTION:
        errors.append(f"autobuy_trail_log_retention_days must be one of CloudWatch Logs' values "
                      f"{sorted(_LOG_RETENTION)} (got {v.get('autobuy_trail_log_retention_days')!r})")
    if not str(v.get("autobuy_trail_metric_namespace", "")) or str(
            v.get("autobuy_trail_metric_namespace", "")).startswith("AWS/"):
        errors.append("autobuy_trail_metric_namespace must be a namespace of ours, not empty "
                      "and not AWS/... (reserved for AWS's metrics)")
    return errors


_GITHUB_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")
_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_GITHUB_REF = re.compile(r"^refs/(heads|tags)/[^\s*?\[\\~^:]+$")
_GITHUB_ENVIRONMENT = re.compile(r"^[^\s*?:'\"<>|,;`\\]{1,255}$")
_THUMBPRINT = re.compile(r"^[0-9a-fA-F]{40}$")


def delivery_errors(v: Mapping[str, Any]) -> Errors:
    """The delivery tier: who may assume the deploy role through GitHub's OIDC provider."""
    errors: Errors = []
    owner, repo = v.get("autobuy_github_owner"), v.get("autobuy_github_repository")
    if (owner in (None, "")) != (repo in (None, "")):
        errors.append("autobuy_github_owner and autobuy_github_repository are set together "
                      "(both null skips the delivery tier)")
    if owner not in (None, "") and not (isinstance(owner, str) and _GITHUB_OWNER.match(owner)):
        errors.append(f"autobuy_github_owner must be a GitHub user or organisation name (got {owner!r})")
    if repo not in (None, "") and not (
            isinstance(repo, str) and _GITHUB_REPOSITORY.match(repo) and repo not in (".", "..")):
        errors.append(f"autobuy_github_repository must be a repository name without its owner (got {repo!r})")
    ref, env = v.get("autobuy_github_ref"), v.get("autobuy_github_environment")
    if env in (None, ""):
        if not (isinstance(ref, str) and _GITHUB_REF.match(ref)):
            errors.append("autobuy_github_ref must be a full branch or tag ref without wildcards, "
                          f"e.g. refs/heads/main (got {ref!r}), or set autobuy_github_environment")
    elif not (isinstance(env, str) and _GITHUB_ENVIRONMENT.match(env)):
        errors.append(f"autobuy_github_environment must be a GitHub environment name or null (got {env!r})")
    url = v.get("autobuy_github_oidc_url")
    if "autobuy_github_oidc_url" in v and not (
            isinstance(url, str) and re.match(r"^https://[^\s/]+$", url)):
        errors.append(f"autobuy_github_oidc_url must be an https:// issuer without a path (got {url!r})")
    prints = v.get("autobuy_github_oidc_thumbprints", [])
    if not isinstance(prints, list) or len(prints) > 5 or not all(
            isinstance(t, str) and _THUMBPRINT.match(t) for t in prints):
        errors.append("autobuy_github_oidc_thumbprints must be a list of at most 5 SHA-1 "
                      f"fingerprints (40 hex digits) (got {prints!r})")
    if "autobuy_deploy_role_max_session" in v:
        errors += _int_range("autobuy_deploy_role_max_session",
                             v.get("autobuy_deploy_role_max_session"), 3600, 43200)
    return errors


def general_errors(v: Mapping[str, Any]) -> Errors:
    errors: Errors = []
    if not _REGION.match(str(v.get("autobuy_region", ""))):
        errors.append(f"autobuy_region is not an AWS region name (got {v.get('autobuy_region')!r})")
    endpoint = v.get("aws_endpoint_url")
    if endpoint and not re.match(r"^https?://[^\s/]+", str(endpoint)):
        errors.append(f"aws_endpoint_url must be an http(s) URL or null (got {endpoint!r})")
    if not isinstance(v.get("autobuy_concurrent"), bool):
        errors.append("autobuy_concurrent must be a boolean (on the command line: "
                      "-e '{\"autobuy_concurrent\": false}')")
    return errors


CHECKS: tuple[Callable[[Mapping[str, Any]], Errors], ...] = (
    general_errors, network_errors, security_errors, data_errors, backup_errors, edge_errors,
    mail_errors, frontend_errors,
    compute_errors, monitoring_errors, trail_errors, delivery_errors,
)


def autobuy_stack_errors(variables: Mapping[str, Any]) -> Errors:
    """Every problem found in the stack variables, each naming its variable."""
    if not isinstance(variables, Mapping):
        return ["autobuy_stack_errors expects a dict of variables"]
    errors: Errors = []
    for check in CHECKS:
        errors.extend(check(variables))
    return errors


class FilterModule:
    """Ansible entry point."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"autobuy_stack_errors": autobuy_stack_errors}
