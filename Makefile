# ctrove — the two commands of README.md:
#   make run     build and run ctrove on its embedded defaults (foreground)
#   make check   build with sanitizers and run every test
# Other targets: build, fuzz (FUZZ_SECONDS=600), bench (ctrove beside Trove 18), bench-api,
# bench-rpc, bench-provision, bench-backup, soak (SOAK_SECONDS=600: mixed traffic and
# hostile requests on 20 instances; RSS flat, no stuck status, no server error), clean.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 600
CHECK_FUZZ_SECONDS ?= 20

.PHONY: all build run check check-openstack unit e2e fuzz fuzz-smoke bench bench-api bench-rpc bench-provision bench-backup \
	deps-run deps-check clean format

all: build

deps-run:
	@scripts/deps.sh run

deps-check:
	@scripts/deps.sh check

# The run build has no tests, so it needs none of the test-only packages
# (libcmocka-dev, python3-pytest); .ci/run proves it on a filtered view.
$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized -Dtests=false

build: deps-run $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	scripts/run.sh $(BUILD)/src/ctrove

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined \
		-Db_lundef=false -Dc_args=-fno-sanitize-recover=all -Dtests=true

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) --buildtype=debug -Dfuzzing=true \
		-Db_lundef=false

check: deps-check $(ASAN_BUILD)/build.ninja $(FUZZ_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ninja -C $(FUZZ_BUILD)  # clang's warnings fail the run before any test does
	scripts/check.sh $(ASAN_BUILD) $(FUZZ_BUILD) $(CHECK_FUZZ_SECONDS)
	scripts/check_openstack.sh $(ASAN_BUILD)

# The cloud path alone (check runs it last): brings up a real OpenStack
# (Keystone, Nova, Cinder, Neutron, Glance) from Debian's packages for the run
# (about a minute, 3.4 GiB), or uses the one CTROVE_OS_STATE names.
check-openstack: deps-check $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	scripts/check_openstack.sh $(ASAN_BUILD)

# The guest image (docs/guest-image.md) built and booted under qemu (TCG) with a
# config drive: its agent connects to a private broker and prepares MariaDB.
# Not in check yet (minutes); CTROVE_IMAGE=path boots an image already built.
.PHONY: check-image
check-image:
	scripts/check_image.sh

# Pieces of check, each starting its own broker when it needs one.
unit:
	ASAN_OPTIONS=detect_leaks=1 meson test -C $(ASAN_BUILD) --print-errorlogs

e2e:
	CTROVE_BIN=$(abspath $(ASAN_BUILD))/src/ctrove /usr/bin/python3 -m pytest -q tests/e2e

fuzz-smoke:
	ninja -C $(FUZZ_BUILD)
	tests/fuzz/run.sh $(FUZZ_BUILD) $(CHECK_FUZZ_SECONDS)

fuzz: deps-check $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# The whole benchmark, one report (bench/README.md): ctrove's API beside Python
# Trove 18's (same data, same wrk settings), create->ACTIVE/delete beside the
# floor, control-plane and guest-agent memory, issue #6's targets; about 7 min.
# Knobs: BENCH_DURATION=15 BENCH_WARMUP=5 BENCH_NS="0 100 1000" BENCH_PARTS=...
bench: build
	bench/run.sh $(BUILD)/src/ctrove

bench-api: build
	@scripts/deps.sh bench
	bench/api/run.sh $(BUILD)/src/ctrove

bench-rpc: deps-check build
	/usr/bin/python3 bench/rpc/bench.py --peer $(BUILD)/tests/unit/rpc_peer

bench-provision: build
	bench/provision/run.sh $(BUILD)/src/ctrove

bench-backup: build
	bench/backup/run.sh $(BUILD)/src/ctrove
# The /metrics scrape time with 1000 instances alone (also a part of bench).
.PHONY: bench-metrics
bench-metrics: build
	bench/metrics/run.sh $(BUILD)/src/ctrove
# N instances on one machine alone (also a part of bench; issue 18):
# make bench-density BENCH_DENSITY_N=100 BUILD=build-bench
.PHONY: bench-density
bench-density: build
	bench/density/run.sh $(BUILD)/src/ctrove
# Replicas and automatic failover alone (also a part of bench).
.PHONY: bench-failover
bench-failover: build
	bench/failover/run.sh $(BUILD)/src/ctrove

format:
	clang-format -i $$(git ls-files 'src/*.[ch]' 'tests/*.[ch]')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

# The soak (bench/README.md): SOAK_SECONDS (600) of mixed API traffic, creates,
# deletes, database, user, root, configuration and backup operations on 20
# instances, with the fuzz corpus's and other hostile requests from a second
# tenant, against the ASan build (SOAK_BIN= for another); fails on any 5xx,
# reset, timeout or unexpected status, a growing RSS, a stuck status, a
# sanitizer report or an unclean exit.
.PHONY: soak
soak: deps-check $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	scripts/soak.sh $(ASAN_BUILD)/src/ctrove
