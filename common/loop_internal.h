/*
 * loop_internal.h — loop.c entry points for the spine's own adapters
 * (common/ipc.c), not part of the loop.h contract daemons code against.
 */
#ifndef CAIRN_LOOP_INTERNAL_H
#define CAIRN_LOOP_INTERNAL_H

#include "loop.h"

/*
 * Removes every pending post of (cb, arg) that has not started running;
 * returns how many were removed. Any thread. Used by an object that must be
 * freed while a post naming it may still be queued (loop_free drops posts
 * without running them, so the object could otherwise never be freed).
 */
int loop_post_cancel(struct loop *l, loop_post_cb cb, void *arg);

#endif
