# Web area (issue 12): the single-page app in web/ (Preact + Vite + TypeScript, see
# web/README.md). Node.js and npm come from the machine's packages (scripts/system-deps.sh
# node); npm packages from web/package-lock.json only (`npm ci`).
#
#   make web        npm ci + production build into web/dist, prints the first page's JS size
#   make test-web   type check, generated API types up to date, vitest (in `make test`)
#   make web-dev    Vite dev server on http://127.0.0.1:5173, /v1 and /health sent to `make api`
#   make lighthouse        Lighthouse 12 scores and first-page JS of the twin's web_url
#   make bench-item-list   50-item list usable after sign-in on the twin vs an empty list
# (both measure the twin of `make local`, which must be running)
.PHONY: web web-deps test-web web-dev web-types web-e2e lighthouse bench-item-list

BENCH_TARGETS += bench-item-list

TEST_TARGETS += test-web

WEB_DIR := web
WEB_STAMP := $(WEB_DIR)/node_modules/.installed
WEB_PORT ?= 5173

web-deps: $(WEB_STAMP)
$(WEB_STAMP): $(WEB_DIR)/package.json $(WEB_DIR)/package-lock.json
	scripts/system-deps.sh node
	cd $(WEB_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web: web-deps ## Build the web app into web/dist and print its first-page JavaScript (gzipped)
	cd $(WEB_DIR) && npx vite build --logLevel warn
	cd $(WEB_DIR) && node scripts/size.mjs

# The API document comes from the app's code (autobuy.openapi), hence `setup`.
test-web: setup web-deps ## Web app: tsc, generated API types match the API, vitest
	cd $(WEB_DIR) && npx tsc --noEmit
	cd $(WEB_DIR) && PYTHON=$(BIN)/python node scripts/openapi.mjs check
	cd $(WEB_DIR) && npx vitest run

web-types: setup web-deps ## Regenerate web/src/api/schema.d.ts from the API's OpenAPI document
	cd $(WEB_DIR) && PYTHON=$(BIN)/python node scripts/openapi.mjs write

web-dev: web-deps ## Vite dev server on 127.0.0.1:$(WEB_PORT); run `make api` alongside
	cd $(WEB_DIR) && npx vite --host 127.0.0.1 --port $(WEB_PORT) --strictPort

# The browser run (also part of `make test` through pytest): the built app and the API on one
# origin, Debian's chromium driven by Playwright; it refreshes the screenshots in docs/.
web-e2e: setup web ## End-to-end run in headless Chromium; screenshots into docs/screenshots
	AUTOBUY_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest tests/app/test_web_e2e.py -q -p no:cacheprovider

# Lighthouse 12 from npm, installed into .cache/lighthouse (not a dependency of the app; give
# LIGHTHOUSE=/path/to/lighthouse to use another), Debian's chromium (scripts/system-deps.sh);
# LIGHTHOUSE_URL defaults to the twin's web_url (make local).
LIGHTHOUSE_VERSION ?= 12.8.2
LIGHTHOUSE_BIN := .cache/lighthouse/node_modules/.bin/lighthouse
LIGHTHOUSE ?= $(LIGHTHOUSE_BIN)
$(LIGHTHOUSE_BIN):
	scripts/system-deps.sh node
	mkdir -p .cache/lighthouse
	npm install --prefix .cache/lighthouse --save-exact --no-audit --no-fund --loglevel=error \
	  lighthouse@$(LIGHTHOUSE_VERSION)

lighthouse: setup $(if $(filter $(LIGHTHOUSE_BIN),$(LIGHTHOUSE)),$(LIGHTHOUSE_BIN)) ## Lighthouse scores and first-page JS (gzipped) of the web app (bench/lighthouse.py)
	scripts/system-deps.sh chromium
	LIGHTHOUSE=$(LIGHTHOUSE) $(BIN)/python bench/lighthouse.py $(if $(LIGHTHOUSE_URL),--url $(LIGHTHOUSE_URL))

bench-item-list: setup ## 50-item list usable after sign-in on the twin's web_url (headless Chromium) vs an empty list
	scripts/system-deps.sh chromium
	$(BIN)/python bench/item_list.py --cloud $(LOCALCLOUD_URL)
