# segscope. `make demo` opens the viewer on the shipped sample; `make test`
# runs every test. Both install what is missing first (scripts/setup.sh).
SWIFT ?= swift
PREFIX ?= /usr/local
PYREF := $(CURDIR)/.build/pyref/bin/python3
RELEASE_BIN = $(shell $(SWIFT) build -c release --show-bin-path)/segscope
# Where scripts/setup.sh writes segscope-blas.pc (the BLAS the build links).
export PKG_CONFIG_PATH := $(CURDIR)/.build/pkgconfig$(if $(PKG_CONFIG_PATH),:$(PKG_CONFIG_PATH))

.PHONY: setup setup-refs setup-bench build release demo test bench fuzz reproduce check-pytorch install clean

setup:
	@scripts/setup.sh

setup-refs:
	@scripts/setup.sh --refs

setup-bench:
	@scripts/setup.sh --bench

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

demo: release
	$(RELEASE_BIN) view samples/

test: setup-refs
	$(SWIFT) build --build-tests
	SEGSCOPE_PYTHON=$(PYREF) $(SWIFT) test

bench: setup-bench release
	$(SWIFT) build -c release --product segscope-bench
	SEGSCOPE_PYTHON=$(PYREF) $(shell $(SWIFT) build -c release --show-bin-path)/segscope-bench

# libFuzzer targets for every parser, FUZZ_SECONDS each (scripts/fuzz.sh).
FUZZ_SECONDS ?= 60
fuzz: setup
	scripts/fuzz.sh $(FUZZ_SECONDS)

# The paper's training schedule and ablation on synthetic data (scripts/reproduce.sh).
reproduce: release
	scripts/reproduce.sh

# The trained weights in PyTorch modules named as the release's (scripts/check-pytorch.sh).
check-pytorch: setup-refs release
	scripts/check-pytorch.sh $(WEIGHTS)

install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/segscope/themes
	install -m 755 $(RELEASE_BIN) $(DESTDIR)$(PREFIX)/bin/segscope
	install -m 644 man/segscope.1 $(DESTDIR)$(PREFIX)/share/man/man1/segscope.1
	install -m 644 themes/*.toml $(DESTDIR)$(PREFIX)/share/segscope/themes/

clean:
	rm -rf .build .build-fuzz
