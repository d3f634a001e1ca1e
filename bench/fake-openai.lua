-- wrk script for bench/fake-openai.sh: a small non-streaming chat
-- completion, the cheapest realistic request relais sends upstream.
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
wrk.body = '{"model":"gpt-4o-mini","messages":[' ..
    '{"role":"system","content":"Tu es bref."},' ..
    '{"role":"user","content":"Bonjour, quelle heure est-il ?"}]}'

-- No per-response hook: it would make wrk, not the fake, the bottleneck.
-- Non-2xx answers are still counted, once, at the end.
done = function(summary, latency, requests)
	io.write(string.format("non-2xx responses: %d\n",
	    summary.errors.status))
end
