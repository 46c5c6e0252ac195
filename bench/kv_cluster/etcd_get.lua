-- wrk script: etcd v3 JSON gateway range of one key (base64 "bench/get");
-- SERIALIZABLE=1 in the environment asks for a serializable (local) read,
-- otherwise linearizable (etcd's default: ReadIndex through the leader)
local body = '{"key":"YmVuY2gvZ2V0"}'
if os.getenv("SERIALIZABLE") == "1" then
	body = '{"key":"YmVuY2gvZ2V0","serializable":true}'
end
local headers = { ["Content-Type"] = "application/json" }

request = function()
	return wrk.format("POST", "/v3/kv/range", headers, body)
end
