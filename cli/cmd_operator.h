/*
 * cmd_operator.h — `cairn operator raft list-peers|remove-peer|
 * transfer-leader` (cmd_operator.c) and `cairn info` (cmd_info.c).
 */
#ifndef CAIRN_CLI_CMD_OPERATOR_H
#define CAIRN_CLI_CMD_OPERATOR_H

int cmd_operator_main(int argc, char **argv);
int cmd_info_main(int argc, char **argv);

#endif
