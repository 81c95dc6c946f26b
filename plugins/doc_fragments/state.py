# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The O(state) option of every AutoBuy Guard module that makes something so or undoes it.

A module that extends this fragment documents what its two states mean in its own
O(state) description (the module's fields are merged over these); the type, choices and
default are said here once.
"""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  state:
    description:
      - C(present) makes what the module manages exist or be on, C(absent) removes it or turns it off.
    type: str
    choices: [present, absent]
    default: present
"""
