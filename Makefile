# ferry: the two commands a newcomer runs are `make demo` and `make check`.
# Each target first installs missing Debian packages (scripts/deps.sh).

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 300
PREFIX     ?= /usr/local
PYTHON     ?= /usr/bin/python3

.PHONY: all deps build asan fuzzbuild fuzz check demo bench install clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@test -f $(BUILD)/build.ninja || meson setup $(BUILD) --prefix=$(PREFIX) >/dev/null
	@ninja -C $(BUILD) >/dev/null

# The C tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
asan: deps
	@test -f $(ASAN_BUILD)/build.ninja || meson setup $(ASAN_BUILD) \
	    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	@ninja -C $(ASAN_BUILD) >/dev/null

# The libFuzzer targets (tests/fuzz), built with clang, ASan and UBSan.
fuzzbuild: deps
	@test -f $(FUZZ_BUILD)/build.ninja || CC=clang meson setup $(FUZZ_BUILD) \
	    -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	@ninja -C $(FUZZ_BUILD) >/dev/null

# Each fuzzer over its corpus, then FUZZ_SECONDS of new inputs.
fuzz: fuzzbuild
	@FUZZ_BUILD=$(FUZZ_BUILD) bash scripts/fuzz.sh $(FUZZ_SECONDS)

check: build asan fuzzbuild
	@BUILD=$(BUILD) ASAN_BUILD=$(ASAN_BUILD) FUZZ_BUILD=$(FUZZ_BUILD) \
	    PYTHON=$(PYTHON) bash tests/run.sh

demo: build
	@BUILD=$(BUILD) bash scripts/demo.sh

bench: build
	@BUILD=$(BUILD) $(PYTHON) bench/bench.py
	@BUILD=$(BUILD) bash bench/migrate.sh
	@BUILD=$(BUILD) bash bench/vmware.sh
	@BUILD=$(BUILD) bash bench/convert.sh
	@BUILD=$(BUILD) bash bench/libvirt.sh
	@BUILD=$(BUILD) bash bench/elf.sh

# PREFIX is honoured even when $(BUILD) was set up with another one.
install: build
	@meson configure $(BUILD) -Dprefix=$(PREFIX) >/dev/null
	@ninja -C $(BUILD) install >/dev/null
	@if [ "$$(id -u)" -eq 0 ] && [ -z "$(DESTDIR)" ]; then ldconfig; fi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
