-- wrk script of the openlms benchmark harness (bench/harness.py).
--
--   wrk -t1 -c2 -d5s -s bench/wrk_report.lua http://127.0.0.1:PORT -- REQUESTS_FILE [MAX]
--
-- REQUESTS_FILE has one request a line: a path, then tab-separated headers
-- ("Authorization: JWT ..."); several lines are sent in turn. With MAX, the
-- thread stops sending after MAX responses and prints "wrk-limit-reached": wrk
-- itself waits for -d, so the harness then ends it with SIGINT (wrk still
-- reports). At the end one JSON line: requests, duration, throughput (requests
-- a second), latency percentiles (microseconds), errors.

local requests = {}
local position = 0
local answered = 0
local limit = 0

function init(args)
   for line in io.lines(args[1]) do
      local fields = {}
      for field in string.gmatch(line, "[^\t]+") do
         table.insert(fields, field)
      end
      local headers = {}
      for i = 2, #fields do
         local name, value = string.match(fields[i], "^([^:]+):%s*(.*)$")
         headers[name] = value
      end
      table.insert(requests, wrk.format("GET", fields[1], headers))
   end
   limit = tonumber(args[2] or "0")
   if limit > 0 then
      -- Defined only when needed: a response() makes wrk hand every answer to Lua.
      response = function(status, headers, body)
         answered = answered + 1
         if answered == limit then
            io.write("wrk-limit-reached\n")
            io.flush()
            wrk.thread:stop()
         end
      end
   end
end

function request()
   position = position % #requests + 1
   return requests[position]
end

function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      '{"requests": %d, "duration_us": %d, "throughput": %.2f, "p50_us": %d, "p95_us": %d, '
         .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "errors": {"connect": %d, '
         .. '"read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
      summary.requests, summary.duration,
      summary.duration > 0 and summary.requests / (summary.duration / 1e6) or 0,
      latency:percentile(50), latency:percentile(95),
      latency:percentile(99), latency.max, latency.mean, errors.connect, errors.read,
      errors.write, errors.status, errors.timeout))
end
