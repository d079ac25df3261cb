# segscope. `make demo` opens the viewer on the shipped sample; `make test`
# runs every test. Both install what is missing first (scripts/setup.sh).
SWIFT ?= swift
PREFIX ?= /usr/local
PYREF := $(CURDIR)/.build/pyref/bin/python3
RELEASE_BIN = $(shell $(SWIFT) build -c release --show-bin-path)/segscope

.PHONY: setup setup-refs setup-bench build release demo test bench fuzz format lint sanitize sanitize-thread reproduce check-pytorch install clean

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

# The code's layout is swift-format's (the toolchain ships it), by .swift-format:
# `make format` rewrites in place, `make lint` (and CI) fails on any finding.
FORMATTED := Package.swift Sources Tests Fuzz
format:
	$(SWIFT) format format --in-place --recursive --parallel $(FORMATTED)

lint:
	$(SWIFT) format lint --strict --recursive --parallel $(FORMATTED)

# libFuzzer targets for every parser, FUZZ_SECONDS each (scripts/fuzz.sh); then
# every command on mutated inputs and argument vectors for COMMAND_FUZZ_SECONDS
# (Tests/Tools/fuzz_commands.py; findings kept in .build-fuzz/commands/findings).
FUZZ_SECONDS ?= 60
COMMAND_FUZZ_SECONDS ?= 300
fuzz: setup
	scripts/fuzz.sh $(FUZZ_SECONDS)
	$(SWIFT) build --product segscope
	python3 Tests/Tools/fuzz_commands.py --binary "$$($(SWIFT) build --show-bin-path)/segscope" \
		--seconds $(COMMAND_FUZZ_SECONDS)

# Every test under the address sanitizer (Swift and C; the C shims also under
# the undefined-behaviour sanitizer, which Swift does not offer on Linux: its
# own checks trap on overflow and bounds in these debug builds; C undefined
# behaviour traps, so no runtime is needed).
sanitize: setup-refs
	LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan-suppressions.txt SEGSCOPE_PYTHON=$(PYREF) $(SWIFT) test --scratch-path .build-asan \
		-Xswiftc -sanitize=address -Xcc -fsanitize=address,undefined -Xcc -fsanitize-trap=undefined

# The concurrent code under the thread sanitizer: the viewer's frame cache and
# controller, and the engine's parallel kernels, backbone and golden runs.
sanitize-thread: setup-refs
	SEGSCOPE_PYTHON=$(PYREF) $(SWIFT) test --scratch-path .build-tsan -Xswiftc -sanitize=thread -Xcc -fsanitize=thread \
		--filter "Controller|Compositor|Downsample|KernelTwin|BackboneKernel|BackboneGolden|GoldenTests|WideGolden|Memory|Trainer"

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
	rm -rf .build .build-fuzz .build-asan .build-tsan
