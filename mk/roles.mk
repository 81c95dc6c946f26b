# Roles (roles/docker, roles/app): the offline images their molecule scenarios run
# on, and the scenarios themselves. See docs/roles.md.
#
#   make images         instance images autobuy/instance:debian12|debian13, the
#                       local cloud's Debian 12 AMI image autobuy/ami:debian12, the
#                       registry autobuy/registry:latest, the twin's database
#                       autobuy/mariadb:latest, its load balancer (HAProxy)
#                       autobuy/alb:latest, the test app autobuy/testapp:latest (each rebuilt only when its recipe
#                       or base changes; the Docker engine is started if needed)
#   make test-molecule  `molecule test --all` in every role that has scenarios

ROLES_WITH_MOLECULE := $(patsubst %/molecule/,%,$(dir $(wildcard roles/*/molecule/)))
IMAGE_BUILD := images/build.sh

.PHONY: images test-molecule

images: ## Offline images: systemd instances (Debian 12/13), the local cloud's AMI image, registry, MariaDB, HAProxy, test app
	scripts/system-deps.sh docker
	scripts/base-image.sh bookworm
	scripts/base-image.sh trixie
	$(IMAGE_BUILD) instance autobuy/instance:debian12 autobuy/debian:bookworm
	$(IMAGE_BUILD) instance autobuy/instance:debian13 autobuy/debian:trixie
	$(IMAGE_BUILD) ami autobuy/ami:debian12 autobuy/instance:debian12
	$(IMAGE_BUILD) registry autobuy/registry:latest autobuy/debian:bookworm
	$(IMAGE_BUILD) mariadb autobuy/mariadb:latest autobuy/debian:bookworm
	$(IMAGE_BUILD) alb autobuy/alb:latest autobuy/debian:bookworm
	$(IMAGE_BUILD) testapp autobuy/testapp:latest autobuy/debian:bookworm

test-molecule: setup images image ## molecule test (full sequence) for every role scenario (app role: on the real app image)
	@set -e; for role in $(ROLES_WITH_MOLECULE); do \
	  echo "== molecule test --all in $$role"; \
	  start=$$(date +%s); \
	  (cd $$role && $(BIN)/molecule test --all); \
	  echo "== $$role: $$(( $$(date +%s) - start )) s"; \
	done

TEST_TARGETS += test-molecule
