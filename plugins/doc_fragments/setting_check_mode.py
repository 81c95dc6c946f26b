# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The check-mode note of the AutoBuy Guard modules that switch a setting of existing resources.

dynamodb_table_protection, sns_topic_encryption and ebs_encryption_default turn a setting
on (O(state=present)) or off; in check mode they change nothing and return the setting as
the run would leave it. Each return value's own description says so too.
"""
from __future__ import annotations


class ModuleDocFragment:
    # ansible-core accepts a fragment only with options or attributes: this one adds none.
    DOCUMENTATION = r"""
options: {}
notes:
  - Supports check mode. In check mode nothing is changed and the return values show
    the settings as the run would leave them.
"""
