-- appended to each wrk script: one machine-readable summary line
done = function(summary, latency, requests)
	local errors = summary.errors.status + summary.errors.connect +
		summary.errors.read + summary.errors.write + summary.errors.timeout
	io.write(string.format("RESULT rps=%.0f p50_us=%d p99_us=%d errors=%d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(99), errors))
end
