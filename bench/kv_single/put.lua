-- wrk script: PUT /v1/kv/bench/<n> with a small value, n unique per thread
local counter = 0
local tid = 0
setup = function(thread)
	thread:set("tid", tid)
	tid = tid + 1
end
request = function()
	counter = counter + 1
	return wrk.format("PUT", "/v1/kv/bench/" .. tid .. "/" .. counter, nil, "value-0123456789")
end
