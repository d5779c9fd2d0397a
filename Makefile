# SPDX-License-Identifier: GPL-2.0
#
# Spice: a Linux 6.12 patch series.  This Makefile prepares build/linux
# (pristine upstream plus the series as commits), builds the kernel, the
# selftests and the tools, and boots them in QEMU.
#
#   make check                 build, boot, run the spice kselftests, host tests
#                              and lint; ends with "N passed, N failed, N skipped"
#   make check KCONFIG=debug   the same on a KASAN/UBSAN/lockdep/kmemleak kernel
#   make check KCONFIG=nospice the same on a kernel without CONFIG_SPICE
#   make demo                  build, boot, run the selftests and a short demo
#   make qemu                  boot the kernel with a shell on the console
#   make image                 build/image/: bzImage, initramfs, run-qemu.sh
#   make series                build/series/: the patches, checked by checkpatch
#   make lint                  sparse, W=1 and kernel-doc on the Spice sources
#
#   KSRC=/path/to/linux-6.12.y  base the series on that tree instead of
#                               Debian's linux-source-6.12
#   ACCEL=kvm|tcg               skip the KVM probe

SHELL := /bin/bash
KSRC ?= /usr/src/linux-source-6.12.tar.xz
KCONFIG ?= default
ACCEL ?= auto
NPROC := $(shell nproc)

BUILD := $(CURDIR)/build
TREE := $(BUILD)/linux
OBJ := $(BUILD)/obj-$(KCONFIG)
LOGS := $(BUILD)/logs
GUEST := $(BUILD)/guest-$(KCONFIG)
RESULTS := $(BUILD)/results-$(KCONFIG)
STEP := $(CURDIR)/harness/step.sh

FRAGMENTS_default := harness/configs/spice.config
FRAGMENTS_debug := $(FRAGMENTS_default) harness/configs/debug.config
FRAGMENTS_nospice := $(FRAGMENTS_default) harness/configs/nospice.config
FRAGMENTS := $(FRAGMENTS_$(KCONFIG))
ifeq ($(FRAGMENTS),)
$(error KCONFIG must be default, debug or nospice)
endif

# ccache: hash paths relative to the checkout, so that another clone of the
# repository (CI) reuses this one's cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

# Kbuild runs in its own environment: our command-line variables (KCONFIG,
# KSRC...) must not leak into it through MAKEFLAGS.
KMAKE := env -u MAKEFLAGS -u MAKEOVERRIDES -u MAKELEVEL \
	make -C $(TREE) O=$(OBJ) CC="ccache gcc" HOSTCC="ccache gcc" \
	LOCALVERSION= -j$(NPROC)
BZIMAGE := $(OBJ)/arch/x86/boot/bzImage
KSFT := $(OBJ)/kselftest/kselftest_install
INITRD := $(GUEST)/initramfs.cpio.gz
DISK := $(BUILD)/disk.img
# Room for the benchmark's images and a copy of the runtimes.
DISK_SIZE ?= 4G
QEMU_ARGS := --kernel $(BZIMAGE) --initrd $(INITRD) --accel $(ACCEL)
export SPICE_ACCEL_CACHE := $(BUILD)/accel

.PHONY: all deps tree kernel selftests tools initramfs check demo qemu run image series lint \
	kunit bench-populate bench-coldstart bench clean
all: initramfs

deps:
	@harness/deps.sh build guest

tree: deps
	@$(STEP) tree $(LOGS)/tree.log harness/prepare-tree.sh $(CURDIR) $(TREE) $(KSRC)

$(OBJ)/.config: $(FRAGMENTS) harness/kconfig.sh | tree
	@$(STEP) config-$(KCONFIG) $(LOGS)/config-$(KCONFIG).log \
		harness/kconfig.sh $(TREE) $(OBJ) $(FRAGMENTS)

kernel: tree $(OBJ)/.config
	@$(STEP) kernel-$(KCONFIG) $(LOGS)/kernel-$(KCONFIG).log $(KMAKE) bzImage

selftests: kernel
	@$(STEP) selftests $(LOGS)/selftests-$(KCONFIG).log \
		$(KMAKE) TARGETS=spice kselftest-install

# libspice and the spice tool, built against the series' uapi headers
# (installed by the selftests step) and installed for the guest.
TOOLS_OUT := $(OBJ)/spice-tools
TOOLS_DEST := $(GUEST)/dest
TOOLS_MAKE := env -u MAKEFLAGS -u MAKEOVERRIDES -u MAKELEVEL make \
	KHDR_INCLUDES="-isystem $(OBJ)/usr/include" prefix=/usr
tools: selftests
	@$(STEP) tools $(LOGS)/tools-$(KCONFIG).log bash -c '\
		rm -rf $(TOOLS_DEST) && \
		$(TOOLS_MAKE) -C $(TREE)/tools/lib/spice OUTPUT=$(TOOLS_OUT)/lib/ \
			DESTDIR=$(TOOLS_DEST) install tests && \
		$(TOOLS_MAKE) -C $(TREE)/tools/spice OUTPUT=$(TOOLS_OUT)/ \
			LIBSPICE_OUTPUT=$(TOOLS_OUT)/lib/ DESTDIR=$(TOOLS_DEST) install && \
		install -D -t $(TOOLS_DEST)/usr/lib/spice/tests $(TOOLS_OUT)/lib/tests/test-*'

initramfs: selftests tools
	@$(STEP) initramfs $(LOGS)/initramfs-$(KCONFIG).log \
		harness/mkinitramfs.sh $(INITRD) $(GUEST)/root $(KSFT) $(TOOLS_DEST)

$(DISK):
	@mkdir -p $(BUILD)
	@truncate -s $(DISK_SIZE) $@.tmp && \
		mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 $@.tmp && mv $@.tmp $@

# Every check runs even when an earlier one fails; the summary line counts
# them all and fails the target if any failed.
check: initramfs $(DISK)
	@rm -rf $(RESULTS) && mkdir -p $(RESULTS)
	@harness/check-guest.sh $(RESULTS)/kselftest.tap $(GUEST)/run \
		$(QEMU_ARGS) --disk $(DISK) --hostroot || true
	@$(STEP) host-tests $(LOGS)/host-tests.log \
		python3 harness/tests/run.py $(RESULTS)/host-tests.tap || true
	@$(STEP) libspice-tests $(LOGS)/libspice-tests.log bash -c \
		'for t in $(TOOLS_OUT)/lib/tests/{test,fuzz}-*; do \
			$$t >$(RESULTS)/libspice-$${t##*/}.tap; done && \
		tools/lib/spice/tests/test-install.sh $(OBJ)/usr/include \
			>$(RESULTS)/libspice-test-install.tap' || true
	@$(STEP) spice-tool-tests $(LOGS)/spice-tool-tests.log bash -c \
		'tools/spice/tests/test-export-core.sh $(TOOLS_OUT)/spice \
			>$(RESULTS)/spice-export-core.tap' || true
	@$(STEP) kunit $(LOGS)/kunit.log \
		harness/kunit.sh $(TREE) $(BUILD)/kunit $(RESULTS)/kunit.tap || true
	@$(STEP) series $(LOGS)/series.log \
		harness/series.sh $(CURDIR) $(TREE) $(BUILD)/series $(RESULTS)/series.tap || true
	@$(STEP) lint $(LOGS)/lint-$(KCONFIG).log \
		harness/lint.sh $(TREE) $(KMAKE) -- $(RESULTS)/lint.tap || true
	@python3 harness/results.py summary $(RESULTS)/*.tap

series: tree
	@$(STEP) series $(LOGS)/series.log \
		harness/series.sh $(CURDIR) $(TREE) $(BUILD)/series $(BUILD)/series.tap
	@cat $(BUILD)/series.tap

kunit: tree
	@$(STEP) kunit $(LOGS)/kunit.log \
		harness/kunit.sh $(TREE) $(BUILD)/kunit $(BUILD)/kunit.tap
	@cat $(BUILD)/kunit.tap

lint: kernel
	@$(STEP) lint $(LOGS)/lint-$(KCONFIG).log harness/lint.sh $(TREE) $(KMAKE) -- $(BUILD)/lint.tap
	@cat $(BUILD)/lint.tap

demo: initramfs $(DISK)
	@harness/run-qemu.sh $(QEMU_ARGS) --mode demo --disk $(DISK) --hostroot --out $(GUEST)/demo

qemu: initramfs $(DISK)
	@harness/run-qemu.sh $(QEMU_ARGS) --mode shell --disk $(DISK) --hostroot

# make run SCRIPT=FILE: boot the guest, run a shell script of the host in
# it (the host's root is at /host), print its output.
run: initramfs $(DISK)
	@test -r "$(SCRIPT)" || { echo "make run: SCRIPT=FILE, a readable file" >&2; exit 2; }
	@harness/run-qemu.sh $(QEMU_ARGS) --mode run --disk $(DISK) --hostroot \
		--append "SPICE_SCRIPT=$(abspath $(SCRIPT))" --out $(GUEST)/run-script

# Benchmarks: in the guest, on the image disk; a table on stdout and JSON
# under build/bench/.  BENCH_MIB and BENCH_REPS size the run; QUICK=1 runs
# the cold-start benchmark on one function per language, 3 times;
# BENCH_FUNCS=a,b runs only those functions.  The runtimes run from a copy
# of the host's root on the image disk (BENCH_ROOT=disk) or over 9p
# (BENCH_ROOT=host).
BENCH_MIB ?= 64
QUICK ?= 0
BENCH_FUNCS ?=
BENCH_ROOT ?= disk
BENCH_TIMEOUT ?= 10800
ifeq ($(QUICK),1)
BENCH_REPS ?= 3
endif
BENCH_REPS ?= 10
BENCH := $(BUILD)/bench
bench-populate: initramfs $(DISK)
	@mkdir -p $(BENCH)
	@harness/run-qemu.sh $(QEMU_ARGS) --mode bench-populate --disk $(DISK) \
		--out $(GUEST)/bench --timeout 5400 \
		--append "SPICE_BENCH_MIB=$(BENCH_MIB) SPICE_BENCH_REPS=$(BENCH_REPS)" >/dev/null
	@python3 harness/bench_report.py populate $(GUEST)/bench $(BENCH)/populate.json

bench-coldstart: initramfs $(DISK)
	@harness/deps.sh bench
	@mkdir -p $(BENCH)
	@# A guest that stops early still gets the functions it finished reported.
	@status=0; harness/run-qemu.sh $(QEMU_ARGS) --mode bench-coldstart --disk $(DISK) \
		--hostroot --out $(GUEST)/bench-coldstart --timeout $(BENCH_TIMEOUT) \
		--append "SPICE_BENCH_REPS=$(BENCH_REPS) SPICE_BENCH_QUICK=$(QUICK) \
			SPICE_BENCH_ROOT=$(BENCH_ROOT) $(if $(BENCH_FUNCS),SPICE_BENCH_FUNCS=$(BENCH_FUNCS))" \
		>/dev/null || status=$$?; \
	python3 harness/bench_report.py coldstart $(GUEST)/bench-coldstart \
		$(BENCH)/results.json && exit $$status

# make bench: the cold-start benchmark with its scaling and density parts.
bench: bench-coldstart

IMAGE := $(BUILD)/image
image: initramfs
	@rm -rf $(IMAGE) && mkdir -p $(IMAGE)
	@cp $(BZIMAGE) $(INITRD) harness/run-qemu.sh $(IMAGE)/
	@cp harness/image-README $(IMAGE)/README
	@echo "  image        $(IMAGE): $$(ls $(IMAGE) | tr '\n' ' ')"

clean:
	rm -rf $(BUILD)
