-- wrk script: etcd v3 JSON gateway PUT, POST /v3/kv/put with base64 key
-- and value, the key unique per thread and request (as cairn's put.lua)
local b64c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local A = {}
for i = 1, 64 do A[i - 1] = b64c:sub(i, i) end

local function b64(s)
	local out, n = {}, #s
	local i = 1
	while i + 2 <= n do
		local a, b, c = s:byte(i, i + 2)
		local v = a * 65536 + b * 256 + c
		out[#out + 1] = A[math.floor(v / 262144)] ..
			A[math.floor(v / 4096) % 64] .. A[math.floor(v / 64) % 64] ..
			A[v % 64]
		i = i + 3
	end
	if n - i == 0 then
		local v = s:byte(i) * 65536
		out[#out + 1] = A[math.floor(v / 262144)] ..
			A[math.floor(v / 4096) % 64] .. "=="
	elseif n - i == 1 then
		local a, b = s:byte(i, i + 1)
		local v = a * 65536 + b * 256
		out[#out + 1] = A[math.floor(v / 262144)] ..
			A[math.floor(v / 4096) % 64] .. A[math.floor(v / 64) % 64] .. "="
	end
	return table.concat(out)
end

local value = b64("value-0123456789")
local headers = { ["Content-Type"] = "application/json" }
local counter = 0
local threads = 0

setup = function(thread)
	thread:set("tid", threads)
	threads = threads + 1
end

request = function()
	counter = counter + 1
	local key = b64("bench/" .. tid .. "/" .. counter)
	return wrk.format("POST", "/v3/kv/put", headers,
		'{"key":"' .. key .. '","value":"' .. value .. '"}')
end
