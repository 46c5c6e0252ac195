/*
 * loop.h — the event loop each daemon's one state-owning thread runs.
 *
 * epoll for file descriptors, a timer heap driven by CLOCK_MONOTONIC,
 * signalfd for signals and an eventfd wakeup so that other threads (nng's
 * aio callbacks, a storage writer) can hand work to the loop with
 * loop_post(). Everything except loop_post() and loop_stop() must be
 * called on the loop thread. Reference: Redis ae.c.
 */
#ifndef CAIRN_LOOP_H
#define CAIRN_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;

#define LOOP_READ 0x1u
#define LOOP_WRITE 0x2u
#define LOOP_ERROR 0x4u /* reported only: EPOLLERR or EPOLLHUP */

typedef void (*loop_fd_cb)(struct loop *l, int fd, uint32_t events,
    void *arg);
typedef void (*loop_timer_cb)(struct loop *l, void *arg);
typedef void (*loop_post_cb)(void *arg);
typedef void (*loop_signal_cb)(struct loop *l, int signo, void *arg);

/* Returns an owned loop (free with loop_free), or NULL on failure. */
struct loop *loop_new(void);
/* Frees l; pending posts are dropped without running. NULL is a no-op. */
void loop_free(struct loop *l);

/* Watches fd for events (LOOP_READ|LOOP_WRITE); arg is borrowed. */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb,
    void *arg);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
void loop_del_fd(struct loop *l, int fd);

/* One-shot timer after delay_ms; returns an id > 0 (0 on failure). */
uint64_t loop_timer_add(struct loop *l, uint64_t delay_ms, loop_timer_cb cb,
    void *arg);
/* Cancels a pending timer; unknown or fired ids are ignored. */
void loop_timer_cancel(struct loop *l, uint64_t id);

/* Monotonic milliseconds, refreshed at each iteration of the loop. */
uint64_t loop_now_ms(struct loop *l);
/* Monotonic milliseconds read now (any thread). */
uint64_t loop_clock_ms(void);

/*
 * Runs cb(arg) on the loop thread soon. Safe from any thread. Returns 0
 * or ERR_NOMEM. Posts run in the order they were made.
 */
int loop_post(struct loop *l, loop_post_cb cb, void *arg);

/* Blocks signo for the process and delivers it through signalfd. */
int loop_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg);

/* Runs until loop_stop(); returns 0, or a negative ERR_* on failure. */
int loop_run(struct loop *l);
/* Makes loop_run() return after the current iteration. Any thread. */
void loop_stop(struct loop *l);

#endif
