-- The booking submission under wrk, for bench/site_bench.py.
--
-- Every POST needs a CSRF cookie with its token and a signed one-time form
-- token; a token sent twice finds the first booking instead of making one.
-- So site_bench.py writes one prepared submission per line ("cookie<TAB>body",
-- each with its own tokens, slot and details) and each wrk thread sends its
-- share of the lines in turn, each once. Should the lines run out, a thread
-- starts again from its first line and those re-posts are counted, so the
-- report can say the figures are not for new bookings only.
--
-- Arguments (after --): the submissions file, the number of wrk threads,
-- the site's origin for the Origin header and, optionally, the path to post
-- to and the Lua pattern of a success's Location (by default /book/ and its
-- confirmation page; bench/peer_bench.py posts django-appointment's request
-- step with them).

local threads = {}
local next_thread = 0

function setup(thread)
  thread:set("thread_number", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

function init(args)
  local path, thread_count = args[1], tonumber(args[2])
  origin = args[3]
  post_path = args[4] or "/book/"
  success_location = args[5] or "^/book/received/"
  submissions = {}
  local line_number = 0
  for line in io.lines(path) do
    if line_number % thread_count == thread_number then
      local cookie, body = line:match("^([^\t]*)\t(.*)$")
      table.insert(submissions, { cookie = cookie, body = body })
    end
    line_number = line_number + 1
  end
  sent, booked, refused, replayed = 0, 0, 0, 0
end

function request()
  sent = sent + 1
  if sent > #submissions then
    replayed = replayed + 1
  end
  local submission = submissions[(sent - 1) % #submissions + 1]
  return wrk.format("POST", post_path, {
    ["Host"] = wrk.headers["Host"],
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = submission.cookie,
    ["Origin"] = origin,
    ["Accept"] = "text/html",
    ["Accept-Encoding"] = "gzip",
    ["User-Agent"] = "site-bench (wrk)",
  }, submission.body)
end

-- Success is the redirect to the confirmation page (or the peer's next
-- step): a form shown again with an error is a 200, which wrk alone would
-- count as a success.
function response(status, headers, body)
  local location = headers["Location"] or ""
  if status == 302 and location:find(success_location) then
    booked = booked + 1
  else
    refused = refused + 1
  end
end

function done(summary, latency, requests)
  local booked_total, refused_total, replayed_total = 0, 0, 0
  for _, thread in ipairs(threads) do
    booked_total = booked_total + thread:get("booked")
    refused_total = refused_total + thread:get("refused")
    replayed_total = replayed_total + thread:get("replayed")
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"booked": %d, "refused": %d, "replayed": %d}\n',
    summary.requests, summary.duration, summary.bytes, errors.connect, errors.read,
    errors.write, errors.status, errors.timeout, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max,
    booked_total, refused_total, replayed_total
  ))
end
