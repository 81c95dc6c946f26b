# Local cloud (issue 2, localcloud/): `make localcloud` / `make localcloud-stop` live in the
# top Makefile. Its tests (tests/localcloud/) run in `make test-py`.
#   make test-localcloud   only the local cloud's tests
#   make bench-localcloud  per-call cost of the extensions + counter against plain moto
#   make bench-instance-boot  RunInstances -> cloud-init done, against a bare docker run
#   make bench-local   make local from a stopped cloud and again, the twin's memory with 1 and 3 instances
.PHONY: test-localcloud bench-localcloud bench-instance-boot bench-local

BENCH_TARGETS += bench-localcloud bench-instance-boot bench-local

test-localcloud: setup ## The local cloud's tests only
	$(BIN)/python -m pytest tests/localcloud

bench-localcloud: setup ## Local cloud vs plain moto: ms per API call and ratio (same run)
	$(BIN)/python bench/localcloud_overhead.py

bench-instance-boot: setup images ## Booting instances: RunInstances -> cloud-init done vs a bare docker run (same run)
	$(BIN)/python bench/instance_boot.py

bench-local: setup ## make local from a stopped local cloud (images cached) and again; twin memory with 1 and 3 instances
	$(BIN)/python bench/local.py --fresh --json bench/results/local.json
