# ferry: the two commands a newcomer runs are `make demo` and `make check`.
# Each target first installs missing Debian packages (scripts/deps.sh).

BUILD      ?= build
ASAN_BUILD ?= build-asan
PREFIX     ?= /usr/local
PYTHON     ?= /usr/bin/python3

.PHONY: all deps build asan check demo bench install clean

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

check: build asan
	@BUILD=$(BUILD) ASAN_BUILD=$(ASAN_BUILD) PYTHON=$(PYTHON) bash tests/run.sh

demo: build
	@BUILD=$(BUILD) bash scripts/demo.sh

bench: build
	@BUILD=$(BUILD) bash bench/bench.sh
	@BUILD=$(BUILD) bash bench/migrate.sh
	@BUILD=$(BUILD) bash bench/vmware.sh

install: build
	@ninja -C $(BUILD) install
	@if [ "$$(id -u)" -eq 0 ] && [ -z "$(DESTDIR)" ]; then ldconfig; fi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
