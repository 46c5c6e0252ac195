# ?filter= expression language (httpd/filter*.c): parser, evaluation,
# filtering of rendered JSON lists.
UNIT_TESTS += unit_http_filter
unit_http_filter_SRCS := tests/unit/test_http_filter.c httpd/filter.c \
	httpd/filter_check.c httpd/filter_eval.c httpd/filter_json.c \
	httpd/filter_schema.c common/err.c
unit_http_filter_LIBS := $(LIB_CMOCKA) $(LIB_JANSSON)
