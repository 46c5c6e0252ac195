/*
 * cmd_lock.h — `cairn lock` (cmd_lock.c), dispatched from cairn.c.
 */
#ifndef CAIRN_CLI_CMD_LOCK_H
#define CAIRN_CLI_CMD_LOCK_H

/* argv[0] is "lock". Returns the exit status. */
int cmd_lock_main(int argc, char **argv);

#endif
