-- Request, in turn, each path listed (one per line) in the file given after `--`:
--   wrk -s bench/lua/rotate.lua http://127.0.0.1:8000 -- /tmp/paths.txt
-- Paths are sent as they are: URL-encode them when writing the file. Each wrk thread starts
-- at a different place in the list, so that threads do not send the same request in step.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local thread_count = 0

function setup(thread)
    thread:set("thread_number", thread_count)
    thread_count = thread_count + 1
end

local paths = {}
local position = 1

function init(args)
    assert(args[1], "rotate.lua needs a file of paths: wrk ... -- paths.txt")
    for line in io.lines(args[1]) do
        if line ~= "" then
            paths[#paths + 1] = line
        end
    end
    assert(#paths > 0, "no paths in " .. args[1])
    position = ((thread_number or 0) * 7) % #paths + 1
end

function request()
    local path = paths[position]
    position = position % #paths + 1
    return wrk.format("GET", path)
end
