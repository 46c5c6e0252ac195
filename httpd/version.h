/*
 * version.h — the one place the version cairn reports lives.
 *
 * cairn implements Consul's HTTP API as of the version below and reports
 * it wherever Consul reports its own (agent/self Config.Version,
 * agent/version HumanVersion, the member "build" tag "<version>:<rev>"),
 * so clients that gate features on the version behave as with Consul.
 * Reference: spec/consul-api.md §2.1.
 */
#ifndef CAIRN_VERSION_H
#define CAIRN_VERSION_H

#define CAIRN_VERSION "1.21.4"
#define CAIRN_VERSION_PRERELEASE ""
#define CAIRN_VERSION_METADATA ""
#define CAIRN_REVISION "cairn"
#define CAIRN_BUILD_DATE "2026-11-21T00:00:00Z"

#endif
