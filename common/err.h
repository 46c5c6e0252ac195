/*
 * err.h — the one project-wide table of error codes.
 *
 * Functions return 0 or a negative ERR_* code; err_str() names it. Foreign
 * error types (nng, RocksDB errptr, MHD_Result, ldns_status, errno) are
 * translated to these at their seam and never cross it (STYLE.md §6).
 * A code is never renumbered: values travel inside IPC error replies.
 * Add new codes at the end of the list, before ERR__LAST.
 */
#ifndef CAIRN_ERR_H
#define CAIRN_ERR_H

#define ERR_TABLE(X)                                                       \
	X(ERR_NOMEM, -1, "out of memory")                                  \
	X(ERR_INVAL, -2, "invalid argument")                               \
	X(ERR_IO, -3, "i/o error")                                         \
	X(ERR_NOTFOUND, -4, "not found")                                   \
	X(ERR_EXISTS, -5, "already exists")                                \
	X(ERR_TIMEOUT, -6, "timed out")                                    \
	X(ERR_CLOSED, -7, "closed")                                        \
	X(ERR_UNAVAILABLE, -8, "peer unavailable")                         \
	X(ERR_BADMSG, -9, "malformed message")                             \
	X(ERR_TOOBIG, -10, "too large")                                    \
	X(ERR_NOLEADER, -11, "No cluster leader")                          \
	X(ERR_NOTLEADER, -12, "not the leader")                            \
	X(ERR_CORRUPT, -13, "corrupt data")                                \
	X(ERR_CONFIG, -14, "configuration error")                          \
	X(ERR_CANCELED, -15, "canceled")                                   \
	X(ERR_AGAIN, -16, "try again")                                     \
	X(ERR_UNSUPPORTED, -17, "not supported")                           \
	X(ERR_PERM, -18, "permission denied")                              \
	X(ERR_CONFLICT, -19, "conflict")                                   \
	X(ERR_SESSION, -20, "invalid session")                             \
	X(ERR_INTERNAL, -21, "internal error")

enum err {
	ERR_OK = 0,
#define ERR_ENUM(name, val, str) name = (val),
	ERR_TABLE(ERR_ENUM)
#undef ERR_ENUM
	ERR__LAST = -22
};

/* Returns a static string naming code (never NULL; unknown codes say so). */
const char *err_str(int code);

/* Translates an errno value to an ERR_* code. */
int err_from_errno(int e);

#endif
