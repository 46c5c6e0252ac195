# raftd: source list and program definition (see Makefile for $(call program)).
# RocksDB is linked statically into raftd: only the code raftd uses is
# mapped, so raftd idles near 12 MB RSS instead of 15 MB with
# librocksdb.so (whose pages count in full). The unit tests link it
# dynamically, as $(LIB_ROCKSDB) says.
RAFTD_LIB_ROCKSDB := -Wl,-Bstatic -lrocksdb -Wl,-Bdynamic -lsnappy -llz4 \
	-lzstd -lbz2 -lz -lstdc++
PROGRAMS += raftd
BINARIES += raftd
# the pure Raft core (raftd/raft.h); tests/sim/raft_sim.c drives it too
RAFT_CORE_SRCS := raftd/raft.c raftd/raft_log.c raftd/raft_conf.c \
	raftd/raft_election.c raftd/raft_recv_vote.c \
	raftd/raft_recv_append.c raftd/raft_replication.c \
	raftd/raft_snapshot.c raftd/raft_membership.c raftd/raft_read.c
# replication glue: the core in raftd, the TCP transport, forwarding,
# discovery and bootstrap
RAFTD_CLUSTER_SRCS := raftd/consensus.c raftd/transport.c \
	raftd/forward.c raftd/discovery.c raftd/snapshot.c raftd/operator.c \
	raftd/members.c \
	$(RAFT_CORE_SRCS)
# the tables: KV, catalog (nodes, services, checks), sessions, txn
RAFTD_KV_SRCS := raftd/kv.c raftd/kv_lock.c raftd/kv_read.c
RAFTD_CATALOG_SRCS := raftd/catalog.c raftd/catalog_write.c \
	raftd/catalog_read.c
RAFTD_TABLE_SRCS := $(RAFTD_KV_SRCS) $(RAFTD_CATALOG_SRCS) raftd/catalog_self.c \
	raftd/session.c raftd/session_state.c raftd/txn.c raftd/txn_cat.c
# everything of a node but main(); unit_raftd and friends link it too
# (with common/nodeid.c, which raftd gets from $(COMMON_SRCS))
RAFTD_NODE_SRCS := raftd/node.c raftd/dispatch.c raftd/pipeline.c \
	raftd/client.c \
	raftd/reconcile.c \
	raftd/reap.c raftd/watch.c raftd/writer.c raftd/store.c raftd/raftlog.c \
	$(RAFTD_TABLE_SRCS) $(RAFTD_CLUSTER_SRCS)
raftd_SRCS := raftd/raftd.c $(RAFTD_NODE_SRCS) $(COMMON_SRCS) $(PROTO_SRCS)
raftd_LIBS := $(RAFTD_LIB_ROCKSDB) $(LIB_NNG) $(LIB_MSGPACK) $(LIB_JANSSON)
