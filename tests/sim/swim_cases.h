/*
 * swim_cases.h — hand-driven protocol cases for the SWIM core (one or a
 * few cores, messages delivered by the test): bad input, the buddy system
 * and refutation, dynamic suspicion timeouts, local health awareness,
 * NACKs, user-event dedupe, force-leave/prune/reap, tags, leave.
 */
#ifndef CAIRN_SWIM_CASES_H
#define CAIRN_SWIM_CASES_H

/* Runs every case, printing one line each; returns the number failed. */
int swim_cases_run(void);

#endif
