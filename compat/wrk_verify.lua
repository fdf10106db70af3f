-- compat/wrk_verify.lua - make wrk check every response it counts.
--
--   wrk ... -s compat/wrk_verify.lua URL -- EXPECTED_BODY_FILE
--
-- Each response must have status 200 and a body byte-for-byte equal to
-- EXPECTED_BODY_FILE.  At the end one line is printed:
--   verify: good=N bad=N
-- followed by wrk's own socket error counts on one line:
--   errors: connect=N read=N write=N status=N timeout=N
local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	local f = assert(io.open(args[1], "rb"))
	expected = f:read("*a")
	f:close()
	good, bad = 0, 0
end

function response(status, headers, body)
	if status == 200 and body == expected then
		good = good + 1
	else
		bad = bad + 1
	end
end

function done(summary, latency, requests)
	local g, b = 0, 0
	for _, t in ipairs(threads) do
		g = g + t:get("good")
		b = b + t:get("bad")
	end
	local e = summary.errors
	io.write(string.format("verify: good=%d bad=%d\n", g, b))
	io.write(string.format("errors: connect=%d read=%d write=%d status=%d timeout=%d\n",
		e.connect, e.read, e.write, e.status, e.timeout))
end
