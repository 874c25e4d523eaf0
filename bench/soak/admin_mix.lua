-- wrk script: the admin API's GETs as the dashboard makes them (the same rotation as
-- bench/soak/doors.py's admin door), bearer token from GF_TOKEN, keep-alive.
local token = os.getenv("GF_TOKEN") or ""
local paths = {"status", "stats/series?range=hour", "history?limit=50", "greylist?limit=50",
               "flux?limit=200", "status", "whitelist"}
local i = 0
wrk.headers["Authorization"] = "Bearer " .. token

request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/" .. paths[i % #paths + 1])
end
