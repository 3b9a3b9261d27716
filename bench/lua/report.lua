-- wrk `done` hook: one parseable line for bench/catalog.py (latencies in microseconds).
-- Use alone (`wrk -s bench/lua/report.lua URL`) for a fixed URL; rotate.lua loads it too.

function done(summary, latency, requests)
    local errors = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d bytes=%d mean_us=%.0f p50_us=%d p90_us=%d"
            .. " p99_us=%d max_us=%d connect_errors=%d read_errors=%d write_errors=%d"
            .. " timeouts=%d status_errors=%d\n",
        summary.requests, summary.duration, summary.bytes, latency.mean,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
        errors.connect, errors.read, errors.write, errors.timeout, errors.status))
end
