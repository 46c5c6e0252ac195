/*
 * ipc_bench.c — request/reply throughput of common/ipc.c: an echo server
 * on one thread (its own loop) and a client on another keeping N calls in
 * flight over one ipc:// socket, as httpd -> raftd does. Prints calls/s.
 *
 * usage: build/ipc_bench [-c concurrency] [-t seconds] [-s payload bytes]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"

struct bench {
	struct loop *cl;
	struct ipc_client *c;
	uint8_t *payload;
	size_t size;
	uint64_t done, errors;
	uint64_t start_ms, end_ms;
	bool stopping;
	int inflight;
};

static void
echo_cb(struct ipc_server *srv, struct ipc_req *req, const uint8_t *data,
    size_t len, void *arg)
{
	if (ipc_reply(req, data, len) != 0)
		fatalx("ipc_reply failed");
}

static void bench_issue(struct bench *b);

static void
bench_reply(void *arg, int err, const uint8_t *data, size_t len)
{
	struct bench *b = arg;

	b->inflight--;
	if (err != 0)
		b->errors++;
	else if (len != b->size)
		fatalx("short reply");
	else
		b->done++;
	if (!b->stopping)
		bench_issue(b);
	else if (b->inflight == 0)
		loop_stop(b->cl);
}

static void
bench_issue(struct bench *b)
{
	if (ipc_call(b->c, b->payload, b->size, 5000, bench_reply, b,
	    NULL) != 0)
		fatalx("ipc_call failed");
	b->inflight++;
}

static void
bench_end(struct loop *l, void *arg)
{
	struct bench *b = arg;

	b->end_ms = loop_clock_ms();
	b->stopping = true;
}

static void *
server_main(void *arg)
{
	loop_run(arg);
	return NULL;
}

static void
wait_connected(struct loop *l, void *arg)
{
	struct bench *b = arg;

	if (!ipc_client_connected(b->c)) {
		loop_timer_add(l, 5, wait_connected, b);
		return;
	}
	loop_stop(l);
}

int
main(int argc, char **argv)
{
	struct loop *sl, *cl;
	struct ipc_server *srv;
	struct bench b = { 0 };
	char dir[] = "/tmp/cairn-bench-XXXXXX", url[128];
	int ch, conc = 64, secs = 3, i;
	pthread_t th;

	log_init("ipc_bench", LOG_LEVEL_WARN);
	b.size = 100;
	while ((ch = getopt(argc, argv, "c:t:s:")) != -1) {
		switch (ch) {
		case 'c': conc = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		case 's': b.size = (size_t)atol(optarg); break;
		default:
			fprintf(stderr, "usage: ipc_bench [-c n] [-t s] "
			    "[-s bytes]\n");
			return 2;
		}
	}
	if (mkdtemp(dir) == NULL || ipc_url(url, sizeof(url), dir, "b") != 0)
		fatal("tmpdir");
	if ((sl = loop_new()) == NULL || (cl = loop_new()) == NULL)
		fatalx("loop_new");
	if (ipc_server_open(sl, url, echo_cb, NULL, &srv) != 0)
		fatalx("server open");
	pthread_create(&th, NULL, server_main, sl);
	b.cl = cl;
	b.payload = calloc(1, b.size ? b.size : 1);
	if (ipc_client_open(cl, url, &b.c) != 0)
		fatalx("client open");
	loop_timer_add(cl, 0, wait_connected, &b);
	loop_run(cl);
	/* warm up, then measure */
	b.start_ms = loop_clock_ms();
	for (i = 0; i < conc; i++)
		bench_issue(&b);
	loop_timer_add(cl, (uint64_t)secs * 1000, bench_end, &b);
	loop_run(cl);
	printf("ipc_bench: concurrency %d, payload %zu B: %llu calls in "
	    "%llu ms = %.0f calls/s (%llu errors)\n", conc, b.size,
	    (unsigned long long)b.done,
	    (unsigned long long)(b.end_ms - b.start_ms),
	    (double)b.done * 1000.0 / (double)(b.end_ms - b.start_ms),
	    (unsigned long long)b.errors);
	ipc_client_close(b.c);
	loop_stop(sl);
	pthread_join(th, NULL);
	ipc_server_close(srv);
	loop_free(sl);
	loop_free(cl);
	free(b.payload);
	rmdir(dir);
	return 0;
}
