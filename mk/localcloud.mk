# Local cloud (issue 2, localcloud/): `make localcloud` / `make localcloud-stop` live in the
# top Makefile. Its tests (tests/localcloud/) run in `make test-py`.
#   make test-localcloud   only the local cloud's tests
#   make bench-localcloud  per-call cost of the extensions + counter against plain moto
.PHONY: test-localcloud bench-localcloud

BENCH_TARGETS += bench-localcloud

test-localcloud: setup ## The local cloud's tests only
	$(BIN)/python -m pytest tests/localcloud

bench-localcloud: setup ## Local cloud vs plain moto: ms per API call and ratio (same run)
	$(BIN)/python bench/localcloud_overhead.py
