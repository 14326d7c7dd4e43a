-- wrk script for bench/people_read.py: each request reads a random path from a file
-- (one per line, the file named after `--`), and `done` prints one JSON line.
--
-- `sent` counts requests written, `non2xx` responses outside 200-299: the audit
-- trail must hold one event per request the server received, including those still
-- in flight when wrk stopped, which wrk's own `requests` total leaves out.

local threads = {}
local next_id = 1

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   paths = {}
   for line in io.lines(args[1]) do
      if #line > 0 then
         paths[#paths + 1] = line
      end
   end
   -- Each thread its own sequence, so the threads do not read the same ids in step.
   math.randomseed(os.time() * 100 + id)
   sent = 0
   non2xx = 0
end

function request()
   sent = sent + 1
   return wrk.format(nil, paths[math.random(#paths)])
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
end

function done(summary, latency, requests)
   local sent_total, non2xx_total = 0, 0
   for _, thread in ipairs(threads) do
      sent_total = sent_total + thread:get("sent")
      non2xx_total = non2xx_total + thread:get("non2xx")
   end
   local errors = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests": %d, "sent": %d, "non2xx": %d, "duration_us": %d, '
         .. '"p50_us": %d, "p99_us": %d, "errors": %d}\n',
      summary.requests, sent_total, non2xx_total, summary.duration,
      latency:percentile(50), latency:percentile(99),
      errors.connect + errors.read + errors.write + errors.timeout
   ))
end
