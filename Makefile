# cairn — top-level build.
#
# Explicit source lists live in mk/<area>.mk, one file per area so that the
# people working on different daemons do not edit the same lines. Every
# program is built twice: build/<prog> (optimised, what users run) and
# build/asan/<prog> (address + undefined sanitizers, what the unit and
# simulation tiers run). `make check` runs every test tier.

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:

include mk/flags.mk
include mk/common.mk
include mk/proto.mk
include mk/raftd.mk
include mk/gossipd.mk
include mk/checkd.mk
include mk/httpd.mk
include mk/dnsd.mk
include mk/systemd.mk
include mk/cli.mk
include mk/tests.mk
include mk/bench.mk

# $(call program,NAME,SOURCES,LIBS): build/NAME and build/asan/NAME
define program
build/$(1): $$(patsubst %.c,build/obj/%.o,$(2))
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $(3) $$(BASE_LIBS)
build/asan/$(1): $$(patsubst %.c,build/asan-obj/%.o,$(2))
	@mkdir -p $$(@D)
	$$(CC) $$(ASAN_LDFLAGS) -o $$@ $$^ $(3) $$(BASE_LIBS)
ALL_SRCS += $(2)
endef

$(foreach p,$(PROGRAMS),$(eval $(call program,$(p),$($(p)_SRCS),$($(p)_LIBS))))

build/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CPPFLAGS) -MMD -MP -c -o $@ $<
build/asan-obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ASAN_CFLAGS) $(CPPFLAGS) -MMD -MP -c -o $@ $<

all: $(addprefix build/,$(BINARIES))

asan: $(addprefix build/asan/,$(BINARIES))

deps:
	sh mk/deps.sh

check: all
	sh tests/run.sh all

check-unit:
	sh tests/run.sh unit
check-sim:
	sh tests/run.sh sim
# the longer simulation sweeps (not in `make check`): SWIM at n = 1,000 and
# 2,000 with 0/10/30 % loss (optimised build: ASan took > 25 min), Raft
# over many more seeds
check-long: build/sim_swim build/asan/sim_raft
	build/sim_swim --long
	build/asan/sim_raft --long --quiet
check-integration: all
	sh tests/run.sh integration

clean:
	rm -rf build

format:
	clang-format -i $(sort $(wildcard $(ALL_SRCS) $(ALL_SRCS:.c=.h)))

.PHONY: all asan deps check check-unit check-sim check-long check-integration \
	clean format

-include $(shell find build -name '*.d' 2>/dev/null)
