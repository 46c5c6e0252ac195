# Compiler flags shared by every program and test.
CC ?= cc
WARN = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
       -Wformat=2 -Wno-unused-parameter
ifeq ($(CI),true)
WERROR = -Werror
endif
CPPFLAGS = -D_GNU_SOURCE -I. -Icommon -Iproto
CFLAGS = -std=c17 -O2 -g -fno-omit-frame-pointer $(WARN) $(WERROR)
ASAN_CFLAGS = -std=c17 -O1 -g -fno-omit-frame-pointer \
       -fsanitize=address,undefined -fno-sanitize-recover=undefined \
       $(WARN) $(WERROR)
LDFLAGS = -g
ASAN_LDFLAGS = -g -fsanitize=address,undefined
BASE_LIBS = -lm -lpthread

pc = $(shell pkg-config --libs $(1))
LIB_NNG = -lnng
LIB_MSGPACK = $(call pc,msgpack)
LIB_MHD = $(call pc,libmicrohttpd)
LIB_LDNS = $(call pc,ldns)
LIB_ROCKSDB = $(call pc,rocksdb)
LIB_JANSSON = $(call pc,jansson)
LIB_CURL = $(call pc,libcurl)
LIB_CMOCKA = $(call pc,cmocka)
