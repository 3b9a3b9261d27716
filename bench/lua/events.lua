-- Event batches for bench/events.py: POST /v1/events, each request one line of the file given
-- after `--` (a JSON body of 1,000 events), in turn. Each wrk thread starts at a different
-- line. Prints the BENCH line of report.lua; latencies there are per batch.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local thread_count = 0

function setup(thread)
    thread:set("thread_number", thread_count)
    thread_count = thread_count + 1
end

local bodies = {}
local position = 1
local headers = { ["Content-Type"] = "application/json" }

function init(args)
    assert(args[1], "events.lua needs a file of batches: wrk ... -- batches.jsonl")
    for line in io.lines(args[1]) do
        if #line > 0 then bodies[#bodies + 1] = line end
    end
    assert(#bodies > 0, "no batches in " .. args[1])
    if args[2] then headers["Authorization"] = "Bearer " .. args[2] end
    position = ((thread_number or 0) * 7) % #bodies + 1
end

function request()
    local body = bodies[position]
    position = position % #bodies + 1
    return wrk.format("POST", "/v1/events", headers, body)
end
