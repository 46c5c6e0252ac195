/*
 * err.c — names for the project-wide error codes (see err.h).
 */
#include <errno.h>

#include "err.h"

const char *
err_str(int code)
{
	switch (code) {
	case ERR_OK:
		return "ok";
#define ERR_CASE(name, val, str) \
	case name:               \
		return str;
		ERR_TABLE(ERR_CASE)
#undef ERR_CASE
	default:
		return "unknown error";
	}
}

int
err_from_errno(int e)
{
	switch (e) {
	case 0:
		return ERR_OK;
	case ENOMEM:
		return ERR_NOMEM;
	case EINVAL:
		return ERR_INVAL;
	case ENOENT:
		return ERR_NOTFOUND;
	case EEXIST:
		return ERR_EXISTS;
	case ETIMEDOUT:
		return ERR_TIMEOUT;
	case EAGAIN:
		return ERR_AGAIN;
	case EACCES:
	case EPERM:
		return ERR_PERM;
	case E2BIG:
	case EMSGSIZE:
	case EFBIG:
		return ERR_TOOBIG;
	case ECONNREFUSED:
	case ECONNRESET:
	case EPIPE:
		return ERR_UNAVAILABLE;
	default:
		return ERR_IO;
	}
}
