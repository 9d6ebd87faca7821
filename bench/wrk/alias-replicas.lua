-- Alias resolution on random seeded models (berth-bench seed), spread over one or more Berth replicas:
-- wrk's threads are given the ports in PORTS (space-separated) in turn, so run as many threads as ports or a
-- multiple; wrk counts answers other than 2xx/3xx ("Non-2xx or 3xx responses"). Environment: PORTS, TOKEN, MODELS (default 100000), NAMESPACES (default 100).
local ports = {}
for port in string.gmatch(os.getenv("PORTS") or "", "%d+") do ports[#ports + 1] = port end
local threads = 0

function setup(thread)
  threads = threads + 1
  thread.addr = wrk.lookup("127.0.0.1", ports[(threads - 1) % #ports + 1])[1]
  thread:set("seed", threads)
end

local models, namespaces, headers

function init(args)
  math.randomseed(seed * 7919)
  models = tonumber(os.getenv("MODELS") or "100000")
  namespaces = tonumber(os.getenv("NAMESPACES") or "100")
  headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN") }
end

function request()
  local m = math.random(1, models - 1)
  return wrk.format("GET", string.format("/api/v1/models/scale-%03d/model-%06d/versions/champion/manifest", m % namespaces, m), headers)
end

