# Price engine area (issue 6): app/autobuy/engine/, tests/app/engine/, bench/extract.py.
# Its tests run inside `make test-py` (pytest over tests/); these targets run them alone.
.PHONY: test-engine bench-engine bench-engine-extract engine-corpus

BENCH_TARGETS += bench-engine

test-engine: setup ## Price engine tests only (SSRF guard, extraction corpus, fetcher)
	$(BIN)/python -m pytest tests/app/engine

bench-engine: bench-engine-extract ## Price engine benchmarks (ratios vs named baselines)

bench-engine-extract: setup ## Extraction pages/s on one core vs BeautifulSoup+lxml, with accuracy
	$(BIN)/python bench/extract.py

engine-corpus: setup ## Regenerate the extraction corpus from its builder
	$(BIN)/python tests/app/engine/corpus/build_corpus.py
