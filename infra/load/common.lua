-- Shared by the wrk scripts of infra/scripts/loadtest.sh: a bounded number
-- of responses per thread, statuses counted per request kind, and JSON
-- results for the script to verify.
--
-- Each thread stops after LOAD_REQUESTS responses and writes what it saw to
-- LOAD_RESULT_PREFIX-thread-N.json (a script's `thread_summary()` adds its
-- own fields); the file is also the sign, for loadtest.sh, that the thread
-- is done. (wrk itself runs until --duration or SIGINT, and its
-- thread:get() corrupts nested tables, so results go through files.) done()
-- writes wrk's own figures to LOAD_RESULT_PREFIX.json.
local common = {}

local threads = {}

-- Main state: give each thread an id.
function common.setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

-- Thread state.
function common.init()
  limit = tonumber(os.getenv("LOAD_REQUESTS") or "")
  if not limit or limit < 1 then
    error("LOAD_REQUESTS must be a positive number")
  end
  prefix = os.getenv("LOAD_RESULT_PREFIX")
  responses = 0
  sent = 0
  counts = {}    -- counts[kind][status] = n
  unexpected = 0 -- responses whose status (or body) was not the expected one
  samples = {}   -- a few unexpected responses, for the report
end

-- Requests built; wrk builds one more on its first thread that it never
-- sends (a dry run that checks the script), so this is informational.
function common.sent()
  sent = sent + 1
end

local function json_string(s)
  s = string.gsub(tostring(s), '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

-- A Lua value as JSON: non-empty tables with a [1] are arrays.
local function to_json(v)
  local t = type(v)
  if t == "table" then
    local parts = {}
    if v[1] ~= nil then
      for _, item in ipairs(v) do table.insert(parts, to_json(item)) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    for k, item in pairs(v) do
      table.insert(parts, json_string(k) .. ":" .. to_json(item))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "number" or t == "boolean" then
    return tostring(v)
  elseif v == nil then
    return "null"
  end
  return json_string(v)
end

local function write(path, value)
  local file = assert(io.open(path, "w"))
  file:write(to_json(value))
  file:close()
end

-- Counts one response of `kind`; after LOAD_REQUESTS, writes the thread's
-- results and stops it.
function common.count(kind, status, ok, body)
  local by_status = counts[kind] or {}
  counts[kind] = by_status
  local key = tostring(status)
  by_status[key] = (by_status[key] or 0) + 1
  if not ok then
    unexpected = unexpected + 1
    if #samples < 5 then
      table.insert(samples, kind .. " " .. key .. " " .. string.sub(body or "", 1, 200))
    end
  end
  responses = responses + 1
  if responses == limit then
    local result = {
      thread = thread_id, sent = sent, responses = responses,
      unexpected = unexpected, samples = samples, counts = counts,
    }
    if thread_summary then
      for k, v in pairs(thread_summary()) do result[k] = v end
    end
    write(prefix .. "-thread-" .. thread_id .. ".json", result)
    wrk.thread:stop()
  end
end

-- Main state.
function common.done(summary, latency)
  write(os.getenv("LOAD_RESULT_PREFIX") .. ".json", {
    seconds = summary.duration / 1e6,
    requests = summary.requests,
    socket_errors = summary.errors,
    latency_ms = {
      p50 = latency:percentile(50) / 1000,
      p90 = latency:percentile(90) / 1000,
      p99 = latency:percentile(99) / 1000,
      max = latency.max / 1000,
    },
  })
end

return common
