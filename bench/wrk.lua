-- Drives one workload: rotates through pre-built GraphQL requests and counts a response
-- with GraphQL `errors` (or a non-200 status) as an error. bench/runner.py fills in the data.
local bodies = {BODIES}
local tokens = {TOKENS}
local formatted = {}
local next_request = 0
local threads = {}
errors = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for n = 1, #bodies do
    local headers = { ["Content-Type"] = "application/json" }
    if tokens[n] ~= "" then
      headers["Authorization"] = "Bearer " .. tokens[n]
    end
    formatted[n] = wrk.format("POST", "/graphql", headers, bodies[n])
  end
end

function request()
  next_request = next_request % #formatted + 1
  return formatted[next_request]
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local graphql_errors = 0
  for _, thread in ipairs(threads) do
    graphql_errors = graphql_errors + thread:get("errors")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "errors": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, graphql_errors, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
