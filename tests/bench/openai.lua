-- wrk script: an OpenAI-style chat completion request (a 560-byte head with
-- the Python SDK's headers, a 747-byte JSON body), for `make bench`'s kernel
-- cost on requests the size real clients send.
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Host"] = "api.example.com"
wrk.headers["User-Agent"] = "OpenAI/Python 1.40.0"
wrk.headers["Authorization"] = "Bearer sk-proj-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["X-Stainless-Lang"] = "python"
wrk.headers["X-Stainless-Package-Version"] = "1.40.0"
wrk.headers["X-Stainless-OS"] = "Linux"
wrk.headers["X-Stainless-Arch"] = "x64"
wrk.headers["X-Stainless-Runtime"] = "CPython"
wrk.headers["X-Stainless-Runtime-Version"] = "3.11.7"
wrk.headers["X-Stainless-Retry-Count"] = "0"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"' .. string.rep("Summarise the following text in three sentences. ", 12) .. '"}],"temperature":0.2,"max_tokens":256}'
