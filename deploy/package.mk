# Packaging: `make deb` (a Debian package, dpkg-deb only, no root) and
# `make image` (an OCI image from scratch with buildah; root, or a rootless
# buildah set up). Both package $(OUTPUT)/hydrawatch; tests/deploy/run.sh
# tests them. Included by the Makefile.

DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo unknown)
DEB := $(OUTPUT)/hydrawatch_$(VERSION)_$(DEB_ARCH).deb
DEB_INPUTS := deploy/deb.sh deploy/hydrawatch.conf deploy/hydrawatch.service \
	deploy/hydrawatch.8 $(wildcard deploy/debian/*) $(wildcard deploy/prometheus/*.yml) \
	$(wildcard deploy/grafana/*.json deploy/grafana/provisioning/*/*.yaml) \
	$(wildcard deploy/alertmanager/*.yml) VERSION

# the image's name, as deploy/kubernetes/daemonset.yaml references it;
# BUILDAH_FLAGS picks another storage (--root DIR --runroot DIR --storage-driver vfs)
IMAGE ?= localhost/hydrawatch:$(VERSION)
IMAGE_ARCHIVE := $(OUTPUT)/hydrawatch_$(VERSION)_$(DEB_ARCH).oci.tar
BUILDAH ?= buildah
BUILDAH_FLAGS ?=

.PHONY: deb image

deb: $(DEB)

$(DEB): $(OUTPUT)/hydrawatch $(DEB_INPUTS)
	$(call msg,DEB,$@)
	$(Q)./deploy/deb.sh $(OUTPUT) $(OUTPUT)/hydrawatch $(VERSION) >/dev/null

# always rebuilt: the image lives in buildah's storage, not in $(OUTPUT)
image: $(OUTPUT)/hydrawatch
	$(call msg,IMAGE,$(IMAGE))
	$(Q)BUILDAH=$(BUILDAH) BUILDAH_FLAGS="$(BUILDAH_FLAGS)" \
		./deploy/image.sh $(OUTPUT)/hydrawatch $(IMAGE) $(IMAGE_ARCHIVE) $(VERSION) >/dev/null
