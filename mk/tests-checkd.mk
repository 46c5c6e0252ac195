# checkd tests, and httpd's side of the agent service/check API
# (httpd/api_agent_services.c, httpd/rpc_checkd.c: added to httpd here).
httpd_SRCS += httpd/api_agent_services.c httpd/rpc_checkd.c

UNIT_TESTS += unit_check_sched
unit_check_sched_SRCS := tests/unit/test_check_sched.c checkd/sched.c
unit_check_sched_LIBS := $(LIB_CMOCKA)
