# The systemd unit generator: golden checks on generated units.
UNIT_TESTS += unit_systemd
unit_systemd_SRCS := tests/unit/test_systemd.c systemd/systemd.c systemd/unit.c \
	common/err.c
unit_systemd_LIBS := $(LIB_CMOCKA)
