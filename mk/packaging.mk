# Packaging: "make deb" builds the Debian package postgresql-15-scfrisk
# (debian/) with dpkg-buildpackage in a copy of the tree under build/deb/, so
# the working tree stays clean; the .deb lands in build/deb/.  META.json is
# the PGXN description.  test/session/test_package.py installs the package's
# files into a private server copy and runs the pgTAP suite against them.

# This file is read before PGXS: keep PGXS's "all" the default goal.
.DEFAULT_GOAL := all

DEB_SRC = build/deb/scfrisk-$(EXTVERSION)

.PHONY: deb
deb:
	rm -rf build/deb && mkdir -p $(DEB_SRC)
	git ls-files -z --cached --others --exclude-standard | grep -zv '^build/' \
		| xargs -0 cp --parents -t $(DEB_SRC) 2>/dev/null || true
	cd $(DEB_SRC) && dpkg-buildpackage -b -us -uc
	@ls build/deb/*.deb
