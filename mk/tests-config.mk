# Unit tests of common/config.c (the configuration loader).
UNIT_TESTS += unit_config
unit_config_SRCS := tests/unit/test_config.c common/config.c common/log.c \
	common/err.c
unit_config_LIBS := $(LIB_CMOCKA) $(LIB_JANSSON)
