# App area (issue 5): the AutoBuy Guard API in app/ (except app/autobuy/engine/).
# Its tests run inside `make test-py` (pytest over tests/; the MariaDB and local-cloud
# fixtures start what they need); these targets run them alone.
#
#   make api         the API on http://127.0.0.1:8000 (gunicorn, local cloud, private MariaDB)
#   make image       taskapp-backend:latest from app/Dockerfile (offline wheelhouse)
#   make bench-api   requests/s and p50/p99 vs a bare WSGI app under the same gunicorn
#   make bench-faults  fault drills: database frozen/killed, DynamoDB slow/throttled/5xx (issue 17)
.PHONY: api api-db-stop image test-app bench-api bench-faults

API_CACHE := .cache/api
API_DB_PORT ?= 3316
IMAGE_NAME := taskapp-backend:latest
WHEELHOUSE := .cache/wheelhouse

BENCH_TARGETS += bench-api bench-faults

api: setup localcloud ## The API on http://127.0.0.1:8000 with dev sign-in (local cloud + private MariaDB)
	scripts/system-deps.sh mariadb
	$(BIN)/python -m autobuy.dev.api --localcloud $(LOCALCLOUD_URL) --cache $(API_CACHE) --db-port $(API_DB_PORT)

api-db-stop: ## Stop the private MariaDB that `make api` started
	$(BIN)/python -m autobuy.dev.mariadb stop $(API_CACHE)/mariadb

test-app: setup ## API tests only (fakes, MariaDB, local cloud, schemathesis)
	$(BIN)/python -m pytest tests/app --ignore=tests/app/engine

image: setup ## Build taskapp-backend:latest (app/Dockerfile, wheels built on the host)
	scripts/system-deps.sh docker
	scripts/base-image.sh bookworm
	app/build-image.sh $(IMAGE_NAME) $(WHEELHOUSE)

bench-api: setup ## /health and GET /v1/items under gunicorn vs a bare WSGI app (same run)
	scripts/system-deps.sh mariadb
	$(BIN)/python bench/api.py

bench-faults: setup ## Fault drills under 20 req/s: /health p99, 503 latencies, recovery, lost writes
	scripts/system-deps.sh mariadb
	$(BIN)/python bench/faults.py
