# httpd: source list and program definition (see Makefile for $(call program)).
# PROGRAMS += httpd
# BINARIES += httpd
# httpd_SRCS := httpd/httpd.c $(COMMON_SRCS) $(PROTO_SRCS)
# httpd_LIBS := ...
