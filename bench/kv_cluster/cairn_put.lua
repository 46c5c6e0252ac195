-- wrk script: PUT /v1/kv/bench/<thread>/<n>, the key unique per thread
-- and request (the thread number is a global set per thread in setup)
local counter = 0
local threads = 0

setup = function(thread)
	thread:set("tid", threads)
	threads = threads + 1
end

request = function()
	counter = counter + 1
	return wrk.format("PUT", "/v1/kv/bench/" .. tid .. "/" .. counter, nil,
		"value-0123456789")
end
