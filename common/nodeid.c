/*
 * nodeid.c — the persisted node ID (see nodeid.h). Reference: Consul
 * agent/config node-id handling; spec §1.10 (UUID format), §4.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "err.h"
#include "nodeid.h"

static int
node_id_valid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	for (size_t i = 0; i < NODE_ID_LEN; i++) {
		char c = s[i];
		if (shape[i] == '-') {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			       (c >= 'A' && c <= 'F'))) {
			return 0;
		}
	}
	return s[NODE_ID_LEN] == '\0';
}

int
node_id_generate(char *out, size_t outlen)
{
	uint8_t b[16];
	if (outlen < NODE_ID_LEN + 1)
		return ERR_INVAL;
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return ERR_IO;
	snprintf(out, outlen,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

static int
node_id_read(const char *path, char *out, size_t outlen)
{
	char buf[128];
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return errno == ENOENT ? ERR_NOTFOUND : ERR_IO;
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, " \t\r\n")] = '\0';
	if (!node_id_valid(buf))
		return ERR_INVAL;
	snprintf(out, outlen, "%s", buf);
	return 0;
}

int
node_id_ensure(const char *data_dir, const char *configured, char *out,
    size_t outlen)
{
	char path[4096], tmp[4096], id[NODE_ID_LEN + 1];
	int fd, rc;

	if (outlen < NODE_ID_LEN + 1)
		return ERR_INVAL;
	if (configured != NULL && configured[0] != '\0') {
		snprintf(out, outlen, "%s", configured);
		return 0;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/node-id", data_dir) >=
	    sizeof(path))
		return ERR_INVAL;
	rc = node_id_read(path, out, outlen);
	if (rc != ERR_NOTFOUND)
		return rc;
	if ((rc = node_id_generate(id, sizeof(id))) != 0)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s/.node-id.%d", data_dir, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return ERR_IO;
	if (write(fd, id, NODE_ID_LEN) != NODE_ID_LEN || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return ERR_IO;
	}
	close(fd);
	/* link(2) fails with EEXIST when another role created it first */
	rc = link(tmp, path);
	unlink(tmp);
	if (rc != 0 && errno != EEXIST)
		return ERR_IO;
	return node_id_read(path, out, outlen);
}
