-- wrk script: POST a realistic ~600-byte beacon (text/plain, as the tag sends it), each with new ids.
-- Set RATE (requests/s for the whole run), THREADS (wrk's -t) to pace the load; unset, it runs flat out.
-- Pacing is open-loop: every thread keeps its own schedule of send times from a monotonic clock, so a
-- slow answer does not lower the rate asked (up to the number of connections in flight).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } tt_timespec;
  int clock_gettime(int clock_id, tt_timespec *tp);
]]
local clock = ffi.new("tt_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local rate = tonumber(os.getenv("RATE") or "0")
local threads = tonumber(os.getenv("THREADS") or "2")
local created = 0

-- Runs once per thread in the main state: gives each thread its number, so event ids never repeat across threads.
setup = function(thread)
  created = created + 1
  thread:set("tid", created)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
wrk.headers["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
wrk.headers["Origin"] = "https://shop.example"

local template = '{"v":1,"site":"demo","vid":"v%08d","sid":"s%08d","sn":1,' ..
  '"land":{"url":"https://shop.example/blog/what-is-a-customer-journey?utm_source=newsletter&utm_medium=email&utm_campaign=launch","ref":"https://www.google.com/"},' ..
  '"ctx":{"sw":1920,"sh":1080,"lang":"fr-FR","tz":"Europe/Paris"},' ..
  '"events":[{"id":"%08d-7c1e-4d2a-9b3f-%04d%08d","type":"pageview","ts":%d,' ..
  '"url":"https://shop.example/blog/what-is-a-customer-journey?utm_source=newsletter&utm_medium=email&utm_campaign=launch",' ..
  '"ref":"https://www.google.com/","title":"What is a customer journey? A guide for marketers"}],"sent":%d}'

local counter = 0
request = function()
  counter = counter + 1
  local now = os.time() * 1000
  local visitor = (counter * 7 + (tid or 0)) % 5000
  local body = string.format(template, visitor, visitor, counter % 100000000, tid or 0, counter % 100000000, now - 25, now)
  return wrk.format(nil, nil, nil, body)
end

local next_at = nil
delay = function()
  if rate <= 0 then
    return 0
  end
  local t = now_ms()
  if next_at == nil or next_at < t - 1000 then
    next_at = t -- start, or more than a second behind: do not fire a burst to catch up
  end
  next_at = next_at + 1000 * threads / rate
  local wait = next_at - t
  if wait < 0 then
    return 0
  end
  return math.floor(wait)
end
