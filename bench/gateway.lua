-- wrk script for bench/gateway.sh: one POST, a JSON body, and a Bearer
-- token taken in turn from a file of tokens (one user or many).
--   GW_PATH    the path ("/completion", "/v1/chat/completions", ...)
--   GW_BODY    the JSON body
--   GW_TOKENS  a file with one token per line (none: no Authorization)
local path = os.getenv("GW_PATH")
local body = os.getenv("GW_BODY")
local tokens = {}
local n = 0

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
