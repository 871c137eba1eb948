-- Phase 3 of infra/scripts/loadtest.sh: version management as CI scripts
-- do it, every kind of request mixed, each with its expected status:
--
--   create     a version with an appVersion unique to this thread and
--              request (201), remembered for the gets, patches, deletes
--   race       the same new appVersion from every thread at about the
--              same time: exactly one 201, the others 409
--   duplicate  a seeded version's identity again (409)
--   get        one of this thread's versions, or a seeded one (200)
--   list       a page, with filters and version-order sorting (200)
--   patch      one of this thread's versions, a new message (200)
--   collide    a patch onto a seeded identity (409)
--   delete     the oldest of this thread's versions (204)
--
-- Run with one connection per thread: a thread then has one request in
-- flight, so it knows which request each response answers, and stopping
-- after LOAD_REQUESTS responses leaves no write unaccounted for.
--
-- Environment: APP_UPGRADE_URL's project and team (APP_UPGRADE_PROJECT_ID,
-- APP_UPGRADE_TEAM_ID), APP_UPGRADE_TOKEN (versions:read and write),
-- LOAD_SEEDED_ID (a seeded version), LOAD_DIR, and those of common.lua.
local common = dofile(os.getenv("LOAD_DIR") .. "/common.lua")

local cycle = {"create", "create", "race", "get", "create", "list", "patch", "duplicate", "delete", "collide"}
local expected = {
  create = 201, race = nil, duplicate = 409, get = 200, list = 200,
  patch = 200, collide = 409, delete = 204,
}

function setup(thread)
  common.setup(thread)
end

function init(args)
  common.init()
  project = os.getenv("APP_UPGRADE_PROJECT_ID")
  team = os.getenv("APP_UPGRADE_TEAM_ID")
  seeded = os.getenv("LOAD_SEEDED_ID")
  headers = {
    ["authorization"] = "Bearer " .. os.getenv("APP_UPGRADE_TOKEN"),
    ["content-type"] = "application/json",
  }
  index = 0
  pending = nil    -- {kind, id} of the request in flight
  live = {}        -- ids this thread created and has not deleted, oldest first
  created = {}     -- every id this thread created (creates and races)
  deleted = {}     -- every id this thread deleted
  versions_of = {} -- live id -> its appVersion (a patch keeps the identity)
end

local function collection()
  return "/api/v1/projects/" .. project .. "/versions?teamId=" .. team
end

local function item(id)
  return "/api/v1/projects/" .. project .. "/versions/" .. id .. "?teamId=" .. team
end

local function body(app_version, message)
  return '{"project":"' .. project .. '","appName":"Load App","appVersion":"' .. app_version
    .. '","platform":"android","environment":"loadtest","forceUpgrade":false,"message":"'
    .. message .. '","customAttributes":{"thread":"' .. thread_id .. '"}}'
end

function request()
  index = index + 1
  local kind = cycle[(index - 1) % #cycle + 1]
  local round = math.floor((index - 1) / #cycle)
  -- Defensive: should wrk ask for a request after the thread's last
  -- response, make it a read, so that no unanswered request can write.
  if responses >= limit then
    kind = "list"
  end
  -- Without a version of its own yet, a thread reads instead.
  if (kind == "patch" or kind == "delete" or kind == "collide") and #live == 0 then
    kind = "list"
  end
  local id = nil
  local req
  if kind == "create" then
    req = wrk.format("POST", collection(), headers, body("10." .. thread_id .. "." .. index, "created"))
  elseif kind == "race" then
    req = wrk.format("POST", collection(), headers, body("20." .. round .. ".0", "raced"))
  elseif kind == "duplicate" then
    -- The seeded exact version's identity, with another environment casing.
    req = wrk.format("POST", collection(), headers,
      '{"project":"' .. project .. '","appName":"Load App","appVersion":"1.0.0",'
      .. '"platform":"Android","environment":"PRODUCTION","forceUpgrade":true}')
  elseif kind == "get" then
    id = live[#live] or seeded
    req = wrk.format("GET", item(id), headers)
  elseif kind == "list" then
    local query = (round % 2 == 0) and "&limit=100&page=1&sortBy=appVersion:desc,createdAt:asc&name=load"
      or "&limit=10&page=2&forceUpgrade=false&active=true"
    req = wrk.format("GET", collection() .. query, headers)
  elseif kind == "patch" then
    id = live[#live]
    req = wrk.format("PATCH", item(id), headers, body(versions_of[id], "patched " .. index))
  elseif kind == "collide" then
    id = live[#live]
    req = wrk.format("PATCH", item(id), headers,
      '{"appName":"Load App","appVersion":"1.0.0","platform":"android","environment":"production","forceUpgrade":false}')
  elseif kind == "delete" then
    id = table.remove(live, 1)
    req = wrk.format("DELETE", item(id), headers)
  end
  pending = {kind = kind, id = id}
  common.sent()
  return req
end

function response(status, headers, body)
  local kind, id = pending.kind, pending.id
  local ok
  if kind == "race" then
    ok = status == 201 or status == 409
  else
    ok = status == expected[kind]
  end
  if status == 201 then
    local new_id = body:match('"id":"([^"]+)"')
    local version = body:match('"appVersion":"([^"]+)"')
    if new_id then
      table.insert(created, new_id)
      if kind == "create" then
        table.insert(live, new_id)
        versions_of[new_id] = version
      end
    else
      ok = false
    end
  elseif kind == "delete" and status == 204 then
    table.insert(deleted, id)
  elseif kind == "delete" then
    -- Not deleted after all: still ours to count.
    table.insert(live, 1, id)
  end
  common.count(kind, status, ok, body)
end

function thread_summary()
  return {created_ids = created, deleted_ids = deleted}
end

function done(summary, latency, requests)
  common.done(summary, latency)
end
