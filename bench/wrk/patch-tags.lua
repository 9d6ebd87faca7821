-- A write request for wrk: set a tag on a version (PATCH with a small JSON body).
-- Usage: wrk -s bench/wrk/patch-tags.lua -H "Authorization: Bearer $TOKEN" $URL/api/v1/models/acme/bench/versions/1
wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"setTags":{"bench":"' .. counter .. '"}}'
  return wrk.format(nil, nil, nil, body)
end
