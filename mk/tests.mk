# Test programs: unit (cmocka), sim (deterministic simulations), fuzz.
# Each unit test is a program named unit_<name>; tests/run.sh runs every
# build/asan/unit_* and build/asan/sim_* it finds.
UNIT_TESTS :=
SIM_TESTS :=
include $(wildcard mk/tests-*.mk)
PROGRAMS += $(UNIT_TESTS) $(SIM_TESTS)
TEST_PROGRAMS = $(addprefix build/asan/,$(UNIT_TESTS) $(SIM_TESTS))
check: $(TEST_PROGRAMS)
check-unit check-sim: $(TEST_PROGRAMS)
