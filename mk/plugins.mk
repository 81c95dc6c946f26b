# Plugins area: our modules, lookups and inventory (issue 3). Unit tests run in `make test-py`.
.PHONY: test-plugins bench-plugins

test-plugins: setup ## Plugin unit + playbook-level tests only
	$(BIN)/python -m pytest tests/unit/plugins tests/integration/plugins
