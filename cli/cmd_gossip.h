/*
 * cmd_gossip.h — the gossip commands of `cairn` (spec §9): members, join,
 * leave, force-leave (cmd_members.c, cmd_join.c, cmd_leave.c) and event
 * (cmd_event.c), each talking HTTP to an agent as Consul's CLI does.
 */
#ifndef CAIRN_CLI_CMD_GOSSIP_H
#define CAIRN_CLI_CMD_GOSSIP_H

int cmd_members_main(int argc, char **argv);
int cmd_join_main(int argc, char **argv);
int cmd_leave_main(int argc, char **argv);
int cmd_force_leave_main(int argc, char **argv);
int cmd_event_main(int argc, char **argv);

#endif
