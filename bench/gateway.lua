-- wrk script for bench/gateway.sh: one POST, a JSON body, and a Bearer
-- token taken in turn from a file of tokens (one user or many).
--   GW_PATH    the path ("/completion", "/v1/chat/completions", ...)
--   GW_BODY    the JSON body
--   GW_TOKENS  a file with one token per line (none: no Authorization)
--   GW_HEADERS more headers, "Name: value" separated by newlines (Portkey's)
local path = os.getenv("GW_PATH")
local body = os.getenv("GW_BODY")
local tokens = {}
local extra = {}
local n = 0

for line in (os.getenv("GW_HEADERS") or ""):gmatch("[^\n]+") do
	local k, v = line:match("^([^:]+):%s*(.*)$")
	if k then
		extra[k] = v
	end
end

local f = os.getenv("GW_TOKENS") and io.open(os.getenv("GW_TOKENS"))
if f then
	for line in f:lines() do
		if line ~= "" then
			tokens[#tokens + 1] = line
		end
	end
	f:close()
end

request = function()
	local h = { ["Content-Type"] = "application/json" }
	for k, v in pairs(extra) do
		h[k] = v
	end
	if #tokens > 0 then
		n = n + 1
		h["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]
	end
	return wrk.format("POST", path, h, body)
end

-- Non-2xx answers would make the figures meaningless: say how many.
done = function(summary, latency, requests)
	io.write(string.format("non-2xx responses: %d\n",
	    summary.errors.status))
end
