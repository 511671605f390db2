-- One wrk script for every workload of `make bench`, configured by environment variables:
--   BENCH_METHOD   GET or POST
--   BENCH_PATH     request path
--   BENCH_BODY     form body; "{value}" in it is replaced by the next single-use value
--   BENCH_VALUES   file of single-use values (codes, refresh tokens), one per line; each wrk
--                  thread takes every BENCH_THREADS-th line from its own offset
--   BENCH_THREADS  wrk's -t (to split the values between threads)
--   BENCH_AUTH     Authorization header value (Basic or Bearer), optional
--   BENCH_COOKIE   Cookie header value, optional
--   BENCH_EXPECT   the one status that counts as success (200 unless told)
-- done() prints one line "BENCH_RESULT {json}" and, if a response was unexpected,
-- "BENCH_FIRST_BAD <status> <start of body>"; the Python harness reads both.

local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body_template = os.getenv("BENCH_BODY")
local values_file = os.getenv("BENCH_VALUES")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local expect = tonumber(os.getenv("BENCH_EXPECT") or "200")

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local headers = {}
local values = nil
local position = 0
local cached = nil
bad = 0
exhausted = 0
first_bad = ""

function init(args)
  local auth = os.getenv("BENCH_AUTH")
  if auth and auth ~= "" then headers["Authorization"] = auth end
  local cookie = os.getenv("BENCH_COOKIE")
  if cookie and cookie ~= "" then headers["Cookie"] = cookie end
  if body_template then headers["Content-Type"] = "application/x-www-form-urlencoded" end
  if values_file and values_file ~= "" then
    values = {}
    local index = 0
    for line in io.lines(values_file) do
      if index % nthreads == id then table.insert(values, line) end
      index = index + 1
    end
  else
    cached = wrk.format(method, path, headers, body_template)
  end
end

function request()
  if cached then return cached end
  position = position + 1
  local value = values[position]
  if value == nil then
    -- Out of single-use values: send a spent one so the run is marked failed, never padded.
    exhausted = exhausted + 1
    value = values[1] or "exhausted"
  end
  local body = string.gsub(body_template, "{value}", function() return value end)
  return wrk.format(method, path, headers, body)
end

function response(status, response_headers, response_body)
  if status ~= expect then
    bad = bad + 1
    if first_bad == "" then
      first_bad = status .. " " .. string.sub(response_body or "", 1, 300):gsub("%s+", " ")
    end
  end
end

function done(summary, latency, requests)
  local total_bad, total_exhausted, sample = 0, 0, ""
  for _, thread in ipairs(threads) do
    total_bad = total_bad + (thread:get("bad") or 0)
    total_exhausted = total_exhausted + (thread:get("exhausted") or 0)
    if sample == "" then sample = thread:get("first_bad") or "" end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "unexpected_status": %d, ' ..
    '"exhausted": %d, "socket_errors": %d, "non_2xx_3xx": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, total_bad, total_exhausted,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
  if sample ~= "" then io.write("BENCH_FIRST_BAD " .. sample .. "\n") end
end
