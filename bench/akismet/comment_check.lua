-- wrk script: realistic Akismet comment-checks (or submit-spam with GF_PATH=/1.1/submit-spam)
-- over keep-alive connections. The key comes from GF_KEY; bodies rotate through 256 prepared
-- requests (varied IPs, authors, texts with and without links) so that lookups and the
-- classifier see varied input. done() prints one machine-readable line:
--   RESULT requests=N seconds=S rps=R p50_ms=A p99_ms=B max_ms=M errors=E timeouts=T non2xx=X
local key = os.getenv("GF_KEY") or "abcdefabcdef"
local path = os.getenv("GF_PATH") or "/1.1/comment-check"

local texts = {
  "I tried the rye version of this bread and it came out well, thank you for the recipe.",
  "Great post! I have been looking for a clear explanation of sourdough starters for weeks.",
  "Does this work with spelt flour as well? My family cannot eat wheat.",
  "Check out my channel for more baking videos http://youtube.example/channel/abc subscribe!",
  "Cheap replica watches and pills, best prices online: http://shop.example/a http://shop.example/b http://pills.example",
  "[url=http://casino.example]best online casino[/url] win big today",
  "Hello, nice site. Please visit www.seo-services.example for guaranteed first page ranking.",
  "My grandmother baked bread like this every Sunday. Thanks for bringing back memories.",
  "Привет! Заходите на наш сайт, лучшие цены на все товары http://shop.example.ru",
  "The oven temperature in step 4 seems high; I used 220C and it was perfect.",
  "Earn $5000 a week working from home!!! Contact me at money@fast.example now",
  "Lovely photos. What camera do you use for the close-ups of the crumb?",
}
local authors = {"Ann Baker", "John", "Maria Rossi", "Best SEO www.seo.example", "Cheap Pills",
                 "bread lover", "Dr. Smith", "casino king"}

local function enc(s)
  return (s:gsub("[^%w%-_%.~]", function(c)
    if c == " " then return "+" end
    return string.format("%%%02X", string.byte(c))
  end))
end

local requests = {}
local counter = 0

function init(args)
  for i = 1, 256 do
    local text = texts[(i % #texts) + 1]
    local author = authors[(i % #authors) + 1]
    local body = table.concat({
      "api_key=" .. key,
      "blog=" .. enc("https://blog.example"),
      "user_ip=" .. string.format("198.51.%d.%d", i % 200, (i * 7) % 250 + 1),
      "user_agent=" .. enc("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"),
      "referrer=" .. enc("https://blog.example/2026/bread"),
      "permalink=" .. enc("https://blog.example/2026/bread"),
      "comment_type=comment",
      "comment_author=" .. enc(author),
      "comment_author_email=" .. enc(string.format("user%d@mail.example", i)),
      "comment_content=" .. enc(text .. " #" .. i),
      "comment_date_gmt=" .. enc("2026-11-24 10:00:00"),
      "blog_lang=en_US",
      "blog_charset=UTF-8",
    }, "&")
    requests[i] = wrk.format("POST", path,
      {["Content-Type"] = "application/x-www-form-urlencoded", ["Host"] = "localhost"}, body)
  end
end

function request()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end

function done(summary, latency, requests_)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.1f errors=%d " ..
    "timeouts=%d non2xx=%d\n",
    summary.requests, secs, summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, e.connect + e.read + e.write + e.timeout,
    e.timeout, e.status))
end
