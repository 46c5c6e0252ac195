# Unit tests of the cairn command's agent-free pieces (cli/).
UNIT_TESTS += unit_cli_flags
unit_cli_flags_SRCS := tests/unit/test_cli_flags.c cli/flags.c cli/base64.c \
	cli/http.c common/log.c common/err.c
unit_cli_flags_LIBS := $(LIB_CMOCKA) $(LIB_CURL)
