-- POST /v1/notifications with a process name no other request uses, so no report is a duplicate.
-- RUN_ID (env) keeps names unique across runs against the same database.
local counter = 0
local threads = {}
local run_id = os.getenv("RUN_ID") or "0"

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  accepted = 0
  refused = 0
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"notification": {"type": "PROCESS", "hostname": "bench-host", "generated_time": "2026-01-01T00:00:00",' ..
    ' "payload": {"event": "STARTED", "process_name": "bench-%s-%d-%d"}}}', run_id, tid, counter)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else refused = refused + 1 end
end

function done(summary, latency, requests)
  local a, r = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("accepted")
    r = r + t:get("refused")
  end
  io.write(string.format("ACCEPTED %d REFUSED %d\n", a, r))
end
