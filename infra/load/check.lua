-- Phase 2 of infra/scripts/loadtest.sh: version checks as the SDKs send
-- them, cycling through queries against the versions the script seeded
-- (exact version, range rules, custom attributes, an inactive version,
-- locales) and some that match nothing. A response is as expected when it
-- is a 200 whose `found` is what the seeded data says.
--
-- Environment: APP_UPGRADE_API_KEY, LOAD_DIR, and those of common.lua.
local common = dofile(os.getenv("LOAD_DIR") .. "/common.lua")

-- {query, expected found}. The name|version|platform each query echoes is
-- unique, so a response says which query it answers (a thread's
-- connections answer out of order).
local queries = {
  {"app_name=Load+App&app_version=1.0.0&platform=android&environment=production", true},
  {"app_name=Load+App&app_version=1.2.3&platform=android&environment=production&app_language=fr", true},
  {"app_name=Load+App&app_version=1.4.9%2B7&platform=Android&environment=Production&app_language=pt-BR", true},
  {"app_name=Load+App&app_version=2.0.0&platform=ios&environment=production&country=US", true},
  {"app_name=Load+App&app_version=2.0.0&platform=iOS&environment=production&country[]=FR&country[]=CA", true},
  {"app_name=Load+App&app_version=2.0.0&platform=IOS&environment=production&country=FR", false},
  {"app_name=Load+App&app_version=2.1.5&platform=ios&environment=production&app_language=undefined", true},
  {"app_name=Load+App&app_version=9.9.9&platform=android&environment=production", false},
  {"app_name=Load+App&app_version=3.0.0&platform=android&environment=production", false},
  {"app_name=Other+App&app_version=1.0.0&platform=android&environment=production&os_version=12", false},
}

local function decode(s)
  return (s:gsub("%+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local expected = {}
for _, q in ipairs(queries) do
  local name = decode(q[1]:match("app_name=([^&]*)"))
  local version = decode(q[1]:match("app_version=([^&]*)"))
  local platform = decode(q[1]:match("platform=([^&]*)"))
  expected[name .. "|" .. version .. "|" .. platform] = q[2]
end

function setup(thread)
  common.setup(thread)
end

function init(args)
  common.init()
  key = os.getenv("APP_UPGRADE_API_KEY")
  next_query = thread_id -- threads start at different queries
  found = 0
  not_found = 0
end

function request()
  next_query = next_query % #queries + 1
  common.sent()
  return wrk.format("GET", "/api/v1/versions/check?" .. queries[next_query][1], {
    ["x-api-key"] = key,
    ["sdk"] = "react-native",
  })
end

function response(status, headers, body)
  local ok = false
  if status == 200 then
    local echo = (body:match('"app_name":"([^"]*)"') or "?") .. "|"
      .. (body:match('"app_version":"([^"]*)"') or "?") .. "|"
      .. (body:match('"platform":"([^"]*)"') or "?")
    local is_found = body:find('"found":true', 1, true) ~= nil
    if is_found then found = found + 1 else not_found = not_found + 1 end
    ok = expected[echo] == is_found
  end
  common.count("check", status, ok, body)
end

function thread_summary()
  return {found = found, not_found = not_found}
end

function done(summary, latency, requests)
  common.done(summary, latency)
end
