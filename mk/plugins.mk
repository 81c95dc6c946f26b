# Plugins area (issue 3): plugins/, inventories/*/aws_ec2.yml, tests/unit/plugins/,
# tests/integration/plugins/, bench/secrets_lookup.py. The tests run in `make test-py`.
#   make test-plugins   only the plugin tests (unit + playbook-level)
#   make bench-plugins  secrets_manager vs amazon.aws.aws_secret (API calls, wall time)
.PHONY: test-plugins bench-plugins

BENCH_TARGETS += bench-plugins

test-plugins: setup ## Plugin unit and playbook-level tests only
	$(BIN)/python -m pytest tests/unit/plugins tests/integration/plugins

bench-plugins: setup ## secrets_manager lookup vs amazon.aws.aws_secret: secret reads and wall time (same run)
	$(BIN)/python bench/secrets_lookup.py
