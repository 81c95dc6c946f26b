# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWS connection options every AutoBuy Guard module takes (plugins/module_utils/autobuy_aws.py)."""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  region:
    description:
      - AWS region. Defaults to E(AWS_REGION), then E(AWS_DEFAULT_REGION), then the profile's region.
    type: str
    aliases: [aws_region]
  endpoint_url:
    description:
      - URL of the AWS API endpoint, for example C(http://127.0.0.1:4566) for the local cloud.
      - Defaults to E(AWS_ENDPOINT_URL). Empty means the real AWS endpoint.
    type: str
    aliases: [aws_endpoint_url]
  profile:
    description: Named AWS profile. Defaults to E(AWS_PROFILE).
    type: str
    aliases: [aws_profile]
  access_key:
    description: AWS access key id. Defaults to E(AWS_ACCESS_KEY_ID).
    type: str
    aliases: [aws_access_key_id]
  secret_key:
    description: AWS secret access key. Defaults to E(AWS_SECRET_ACCESS_KEY).
    type: str
    aliases: [aws_secret_access_key]
  session_token:
    description: AWS session token. Defaults to E(AWS_SESSION_TOKEN).
    type: str
    aliases: [aws_session_token]
  assume_role_arn:
    description: IAM role to assume before calling AWS. Defaults to E(AWS_ASSUME_ROLE_ARN).
    type: str
  assume_role_session_name:
    description:
      - Session name of the assumed role. Defaults to E(AWS_ROLE_SESSION_NAME), then C(autobuy-guard).
    type: str
requirements:
  - python >= 3.9
  - boto3
notes:
  - Connection options, client creation and retries come from the collection's
    C(autobuy_aws) module_utils, not from amazon.aws's C(AnsibleAWSModule) and C(AWSRetry).
    It does what those cannot - O(assume_role_arn) on every module and lookup (amazon.aws
    modules have no assume-role option; assumed credentials are cached per process); one
    option resolution, client and retry policy shared by modules and controller-side
    plugins (the C(autobuy.guard.secrets_manager) lookup and its cache server); and one
    retry list that also covers 5xx-like codes and dropped connections, with botocore's
    own retries off so API call counts are exact. In exchange these modules are not in
    the C(group/aws) action group and have no C(validate_certs), C(aws_ca_bundle) or
    C(aws_config) options.
  - As they are not in the C(group/aws) action group, C(module_defaults) for that group do
    not apply. Pass the connection options explicitly (a YAML anchor helps) or through
    C(module_defaults) for the module's own name.
"""
