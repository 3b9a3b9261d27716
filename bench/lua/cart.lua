-- GET /v1/cart as many customers in turn: each request takes the next line's token from the
-- file given after `--` (lines "<token> ...", the checkout benchmark's customers file).
-- Each wrk thread starts at a different place in the list.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local thread_count = 0

function setup(thread)
    thread:set("thread_number", thread_count)
    thread_count = thread_count + 1
end

local tokens = {}
local position = 1

function init(args)
    for line in io.lines(args[1]) do
        local token = line:match("^(%S+)")
        if token then
            tokens[#tokens + 1] = token
        end
    end
    assert(#tokens > 0, "no customers in " .. args[1])
    position = ((thread_number or 0) * 7919) % #tokens + 1
end

function request()
    local token = tokens[position]
    position = position % #tokens + 1
    return wrk.format("GET", "/v1/cart", { ["Authorization"] = "Bearer " .. token })
end
