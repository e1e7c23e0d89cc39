-- Written by ovactl at first boot: serves the appliance's own metrics (/metrics/appliance) from the
-- Prometheus text files ovactl's processes write in /run/ovactl/metrics, seen from haproxy's chroot as
-- /ovactl-metrics. Read at each scrape: fresh without a reload, and no process started per request.
local FILES = { "firstboot.prom", "status.prom", "certificates.prom", "anyip.prom", "rhi.prom" }

core.register_service("ovactl_metrics", "http", function(applet)
  local parts = {}
  for _, name in ipairs(FILES) do
    local f = io.open("/ovactl-metrics/" .. name, "r")
    if f then
      parts[#parts + 1] = f:read("a")
      f:close()
    end
  end
  local body = table.concat(parts)
  applet:set_status(200)
  applet:add_header("content-type", "text/plain; version=0.0.4; charset=utf-8")
  applet:add_header("content-length", tostring(#body))
  applet:start_response()
  applet:send(body)
end)
