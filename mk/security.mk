# Security area (issue 14): `make audit` runs prowler against the stack that site.yml
# builds on a private local cloud and fails on any critical or high finding on our
# resources (scripts/audit.py; docs/security.md). Part of `make test` (CI): about 4
# minutes, plus a one-off 5-minute prowler install into its own virtualenv.
#
#   make audit          converge on a private local cloud, prowler, failures by severity
.PHONY: audit

# Pinned; its own virtualenv, as prowler's dependency tree (every cloud's SDK) would
# clash with the project's pins.
PROWLER_VERSION := 5.46.0
PROWLER_VENV := .cache/prowler-venv

$(PROWLER_VENV)/.installed-$(PROWLER_VERSION):
	scripts/require-python.sh $(MIN_PYTHON) $(PYTHON)
	test -x $(PROWLER_VENV)/bin/python || $(PYTHON) -m venv $(PROWLER_VENV)
	$(PROWLER_VENV)/bin/python -m pip install -q prowler==$(PROWLER_VERSION)
	touch $@

audit: setup web $(PROWLER_VENV)/.installed-$(PROWLER_VERSION) ## prowler on the stack (local cloud): failures by severity, non-zero on critical/high
	$(BIN)/python scripts/audit.py --prowler $(PROWLER_VENV)/bin/prowler --json .cache/audit.json

TEST_TARGETS += audit
