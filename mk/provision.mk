# Provisioning area (issue 2): site.yml, teardown.yml, playbooks/, inventories/*/hosts.yml
# and group_vars, tests/playbooks/, bench/provision.py.
# Its tests run inside `make test-py` (pytest over tests/; each test module starts its
# own local cloud); these targets run them alone.
#
#   make local          (Makefile) site.yml + playbooks/summary.yml on the local cloud
#   make teardown       remove the stack from the local cloud
#   make test-provision the provisioning tests only
#   make bench-provision cold converge, re-run, teardown, concurrent vs serial
.PHONY: teardown summary test-provision bench-provision

BENCH_TARGETS += bench-provision

teardown: setup localcloud ## Remove everything site.yml created on the local cloud (with the twin: and stop it)
	$(BIN)/ansible-playbook teardown.yml -i inventories/local -e aws_endpoint_url=$(LOCALCLOUD_URL)
	@# The twin's own containers (registry, demo shop, instance services) and network belong
	@# to the running server, not to the stack: with the stack gone, stop it, so nothing of
	@# the twin stays (its CA stays in .localcloud/twin/ca for the next make local).
	@if curl -sf $(LOCALCLOUD_URL)/localcloud/twin | grep -q '"enabled": true'; then \
	  $(MAKE) --no-print-directory localcloud-stop; fi

summary: setup localcloud ## What exists on the local cloud (API URL, ALB, DB, ECR)
	$(BIN)/ansible-playbook playbooks/summary.yml -i inventories/local

test-provision: setup ## Provisioning tests only (site.yml, idempotence, check mode, teardown)
	$(BIN)/python -m pytest tests/playbooks -k provisioning

bench-provision: setup web ## Cold converge, re-run, teardown and concurrent vs serial converge
	$(BIN)/python bench/provision.py --json bench/results/provision.json
