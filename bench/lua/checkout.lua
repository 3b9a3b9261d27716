-- Virtual customers for bench/checkout.py: each connection plays customers in turn; a
-- customer puts three products in the cart (three PUTs), then checks out (one POST with a
-- fresh Idempotency-Key). Arguments after `--`: a file of lines
--   <token> <product> <product> <product>
-- one per customer. Prints the BENCH line of report.lua (all requests), plus a CHECKOUT line:
-- checkout answers by status (201, 409, 5xx, other) and checkout latency percentiles.
--
-- A customer's requests must go in order on one connection, and wrk shares one Lua state
-- between the connections of a thread: run it with as many threads as connections.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local ffi = require("ffi")
ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clock, bench_timespec *now);
]]
local now_buffer = ffi.new("bench_timespec")

local function now_us()
    ffi.C.clock_gettime(1, now_buffer) -- CLOCK_MONOTONIC
    return tonumber(now_buffer.tv_sec) * 1000000 + tonumber(now_buffer.tv_nsec) / 1000
end

local threads = {}
local thread_count = 0

function setup(thread)
    thread:set("thread_number", thread_count)
    thread_count = thread_count + 1
    table.insert(threads, thread)
end

local customers = {}
local position = 1
local step = 0
local current
local key_serial = 0
created, short, server_errors, other = 0, 0, 0, 0
latencies = "" -- checkout latencies in microseconds, comma-separated, read back in done()
local latency_list = {}
local sent_at = 0

function init(args)
    for line in io.lines(args[1]) do
        local token, a, b, c = line:match("^(%S+) (%S+) (%S+) (%S+)$")
        if token then
            customers[#customers + 1] = { token = token, products = { a, b, c } }
        end
    end
    assert(#customers > 0, "no customers in " .. args[1])
    position = ((thread_number or 0) * 7919) % #customers + 1
    math.randomseed(os.time() + (thread_number or 0))
end

function request()
    if step == 0 then
        current = customers[position]
        position = position % #customers + 1
    end
    local headers = { ["Authorization"] = "Bearer " .. current.token }
    if step < 3 then
        headers["Content-Type"] = "application/json"
        return wrk.format("PUT", "/v1/cart/items/" .. current.products[step + 1], headers,
            '{"quantity": 1}')
    end
    key_serial = key_serial + 1
    headers["Idempotency-Key"] = string.format("bench-%d-%d-%d-%d", thread_number or 0,
        os.time(), key_serial, math.random(1, 1000000000))
    sent_at = now_us()
    return wrk.format("POST", "/v1/checkout", headers, "")
end

function response(status, headers, body)
    if step == 3 then
        latency_list[#latency_list + 1] = string.format("%d", now_us() - sent_at)
        latencies = table.concat(latency_list, ",")
        if status == 201 then created = created + 1
        elseif status == 409 then short = short + 1
        elseif status >= 500 then server_errors = server_errors + 1
        else other = other + 1 end
    elseif status >= 500 then
        server_errors = server_errors + 1
    end
    step = (step + 1) % 4
end

local report_done = done
function done(summary, latency, requests)
    report_done(summary, latency, requests)
    local totals = { created = 0, short = 0, server_errors = 0, other = 0 }
    for _, thread in ipairs(threads) do
        for name, _ in pairs(totals) do
            totals[name] = totals[name] + (thread:get(name) or 0)
        end
    end
    local all = {}
    for _, thread in ipairs(threads) do
        for value in string.gmatch(thread:get("latencies") or "", "%d+") do
            all[#all + 1] = tonumber(value)
        end
    end
    table.sort(all)
    local function percentile(p)
        if #all == 0 then return 0 end
        return all[math.max(1, math.ceil(#all * p / 100))]
    end
    io.write(string.format(
        "CHECKOUT created=%d short=%d server_errors=%d other=%d p50_us=%d p99_us=%d\n",
        totals.created, totals.short, totals.server_errors, totals.other,
        percentile(50), percentile(99)))
end
