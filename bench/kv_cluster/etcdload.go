// etcdload: a gRPC load generator for etcd v3, the shape of etcd's own
// `benchmark put` / `benchmark range` (tools/benchmark), for
// bench/kv_cluster.
//
// Why our own: Debian 12 ships etcd's Go sources (golang-etcd-server-dev,
// 3.4.23) without tools/benchmark, and no Go module proxy is reachable
// here, so etcd's tool cannot be built. This file needs only Debian's
// go.etcd.io/etcd/clientv3 and builds offline in GOPATH mode
// (bench/kv_cluster/build.sh, `make bench-deps`).
//
// Shape (as etcd's tool): -clients goroutines share -conns gRPC
// connections (goroutine i uses connection i mod conns), each sends one
// request at a time and waits for its answer; every latency is recorded
// and the p50/p99 taken over all of them. Unlike etcd's tool, which runs
// a fixed -total, this runs for -duration seconds (as wrk does in the same
// bench), and its PUT keys and value are those of bench/kv_cluster's wrk
// scripts: key "bench/<client>/<n>", unique per request, value
// "value-0123456789" (16 bytes). range reads one key (-key) with
// linearizable (l, etcd's default) or serializable (s) consistency.
//
// Output: one line in the format of bench/kv_single/done.lua,
//
//	RESULT rps=<ok per second> p50_us=<> p99_us=<> errors=<failed requests>
//
// so bench.py parses both load generators alike.
//
// Learned from: etcd v3.4 tools/benchmark/cmd/{put,range,util}.go (the
// clients-over-connections shape), pkg/report (percentiles of all samples).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.uber.org/zap"
)

type result struct {
	lat  []time.Duration // latencies of acknowledged requests
	errs int
}

func dial(endpoints []string) *clientv3.Client {
	lc := zap.NewProductionConfig()
	lc.Level = zap.NewAtomicLevelAt(zap.ErrorLevel)
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		LogConfig:   &lc,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdload: dial:", err)
		os.Exit(1)
	}
	return c
}

// connected makes sure c's connection is up before the clock starts.
func connected(c *clientv3.Client, ep string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Status(ctx, ep); err != nil {
		fmt.Fprintln(os.Stderr, "etcdload: status:", err)
		os.Exit(1)
	}
}

// worker sends requests on c one at a time until stop.
func worker(c *clientv3.Client, id int, op, key string, opts []clientv3.OpOption,
	stop time.Time, res *result) {
	value := "value-0123456789"
	for n := 1; ; n++ {
		t0 := time.Now()
		if !t0.Before(stop) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var err error
		if op == "put" {
			k := fmt.Sprintf("bench/%d/%d", id, n)
			_, err = c.Put(ctx, k, value)
		} else {
			_, err = c.Get(ctx, key, opts...)
		}
		cancel()
		if err != nil {
			res.errs++
			continue
		}
		res.lat = append(res.lat, time.Since(t0))
	}
}

func percentile(s []time.Duration, p float64) int64 {
	if len(s) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(s)))
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i].Microseconds()
}

func main() {
	eps := flag.String("endpoints", "127.0.0.1:2379", "comma-separated client URLs")
	op := flag.String("op", "put", "put or range")
	clients := flag.Int("clients", 1, "concurrent clients (goroutines)")
	conns := flag.Int("conns", 1, "gRPC connections the clients share")
	dur := flag.Int("duration", 5, "seconds to run")
	key := flag.String("key", "bench/get", "range: the key read")
	cons := flag.String("consistency", "l", "range: l (linearizable) or s (serializable)")
	flag.Parse()
	if (*op != "put" && *op != "range") || *clients < 1 || *conns < 1 ||
		*dur < 1 || (*cons != "l" && *cons != "s") {
		flag.Usage()
		os.Exit(2)
	}
	if *conns > *clients {
		*conns = *clients
	}
	endpoints := strings.Split(*eps, ",")
	cs := make([]*clientv3.Client, *conns)
	for i := range cs {
		cs[i] = dial(endpoints)
		connected(cs[i], endpoints[0])
	}
	var opts []clientv3.OpOption
	if *cons == "s" {
		opts = append(opts, clientv3.WithSerializable())
	}

	res := make([]result, *clients)
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(time.Duration(*dur) * time.Second)
	for i := 0; i < *clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			worker(cs[i%*conns], i, *op, *key, opts, stop, &res[i])
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)

	var all []time.Duration
	errs := 0
	for _, r := range res {
		all = append(all, r.lat...)
		errs += r.errs
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	fmt.Printf("RESULT rps=%.0f p50_us=%d p99_us=%d errors=%d\n",
		float64(len(all))/elapsed.Seconds(), percentile(all, 50),
		percentile(all, 99), errs)
	for _, c := range cs {
		c.Close()
	}
}
