-- wrk script: POST a realistic ~600-byte beacon (text/plain, as the tag sends it), each with new ids.
-- Set RATE (requests/s for the whole run) and CONNECTIONS to pace the load; unset, it runs flat out.
local counter = 0
local rate = tonumber(os.getenv("RATE") or "0")
local connections = tonumber(os.getenv("CONNECTIONS") or "32")

wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
wrk.headers["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
wrk.headers["Origin"] = "https://shop.example"

local template = '{"v":1,"site":"demo","vid":"v%08d","sid":"s%08d","sn":1,' ..
  '"land":{"url":"https://shop.example/blog/what-is-a-customer-journey?utm_source=newsletter&utm_medium=email&utm_campaign=launch","ref":"https://www.google.com/"},' ..
  '"ctx":{"sw":1920,"sh":1080,"lang":"fr-FR","tz":"Europe/Paris"},' ..
  '"events":[{"id":"%08d-7c1e-4d2a-9b3f-2a6c0e5d%04d","type":"pageview","ts":%d,' ..
  '"url":"https://shop.example/blog/what-is-a-customer-journey?utm_source=newsletter&utm_medium=email&utm_campaign=launch",' ..
  '"ref":"https://www.google.com/","title":"What is a customer journey? A guide for marketers"}],"sent":%d}'

request = function()
  counter = counter + 1
  local now = os.time() * 1000
  local body = string.format(template, counter % 5000, counter % 5000, counter, counter % 10000, now - 25, now)
  return wrk.format(nil, nil, nil, body)
end

delay = function()
  if rate > 0 then
    return math.floor(1000 * connections / rate)
  end
  return 0
end
