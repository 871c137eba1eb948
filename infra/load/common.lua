-- Shared by the wrk scripts of infra/scripts/loadtest.sh: a bounded number
-- of responses per thread, statuses counted per request kind, and a JSON
-- summary for the script to verify.
--
-- Environment: LOAD_REQUESTS (responses per thread, then the thread stops),
-- LOAD_RESULT_FILE (where done() writes the JSON summary).
local common = {}

local threads = {}

-- Main state: give each thread an id and keep it for done().
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
  responses = 0
  sent = 0
  counts = {}    -- counts[kind][status] = n
  unexpected = 0 -- responses whose status (or body) was not the expected one
  samples = {}   -- a few unexpected responses, for the report
end

function common.sent()
  sent = sent + 1
end

-- Counts one response of `kind`; stops the thread after LOAD_REQUESTS.
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
  if responses >= limit then
    wrk.thread:stop()
  end
end

local function json_string(s)
  s = string.gsub(tostring(s), '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

-- A Lua value as JSON: tables with a [1] are arrays, others objects.
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
common.to_json = to_json

-- Main state: merges the threads' counts, prints the figures and writes
-- the summary (plus `extra(threads)`, the script's own fields).
function common.done(summary, latency, extra)
  local merged, total_unexpected, total_sent, total_responses, samples_all = {}, 0, 0, 0, {}
  for _, thread in ipairs(threads) do
    for kind, by_status in pairs(thread:get("counts")) do
      merged[kind] = merged[kind] or {}
      for status, n in pairs(by_status) do
        merged[kind][status] = (merged[kind][status] or 0) + n
      end
    end
    total_unexpected = total_unexpected + thread:get("unexpected")
    total_sent = total_sent + thread:get("sent")
    total_responses = total_responses + thread:get("responses")
    for _, s in ipairs(thread:get("samples")) do table.insert(samples_all, s) end
  end
  local seconds = summary.duration / 1e6
  local result = {
    responses = total_responses,
    sent = total_sent,
    unexpected = total_unexpected,
    unexpected_samples = samples_all,
    counts = merged,
    seconds = seconds,
    requests_per_second = total_responses / seconds,
    socket_errors = summary.errors,
    latency_ms = {
      p50 = latency:percentile(50) / 1000,
      p90 = latency:percentile(90) / 1000,
      p99 = latency:percentile(99) / 1000,
      max = latency.max / 1000,
    },
  }
  if extra then
    for k, v in pairs(extra(threads)) do result[k] = v end
  end
  local path = os.getenv("LOAD_RESULT_FILE")
  local file = assert(io.open(path, "w"))
  file:write(to_json(result))
  file:close()
end

return common
