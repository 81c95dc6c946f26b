# Price engine area (issue 6): app/autobuy/engine/, tests/app/engine/, bench/extract.py,
# bench/worker.py.
# Its tests run inside `make test-py` (pytest over tests/); these targets run them alone.
.PHONY: test-engine bench-engine bench-engine-extract bench-engine-worker engine-corpus demo-shop worker

BENCH_TARGETS += bench-engine

test-engine: setup ## Price engine tests only (SSRF guard, extraction corpus, fetcher)
	$(BIN)/python -m pytest tests/app/engine

bench-engine: bench-engine-extract bench-engine-worker ## Price engine benchmarks (ratios vs named baselines)

bench-engine-extract: setup ## Extraction pages/s on one core vs BeautifulSoup+lxml, with accuracy
	$(BIN)/python bench/extract.py

engine-corpus: setup ## Regenerate the extraction corpus from its builder
	$(BIN)/python tests/app/engine/corpus/build_corpus.py

bench-engine-worker: setup ## Worker checks/s against the loopback demo shop vs one-at-a-time
	$(BIN)/python bench/worker.py

demo-shop: setup ## Loopback demo shop with changeable prices on http://127.0.0.1:8765/p/0
	$(BIN)/python tests/app/support/demoshop.py --port 8765

worker: setup ## The check worker against the local cloud (needs AUTOBUY_CHECKS_QUEUE_URL)
	AUTOBUY_ENV=development AUTOBUY_AWS_ENDPOINT_URL=$${AUTOBUY_AWS_ENDPOINT_URL:-$(LOCALCLOUD_URL)} \
		$(BIN)/python -m autobuy.engine.worker
