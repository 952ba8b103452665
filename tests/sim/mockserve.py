#!/usr/bin/env python3
"""The mock inference server in Python asyncio: the same endpoints and
bytes as hwserve's (tests/tools/hwserve.c) /v1/chat/completions and
/v1/messages, kept to compare the two on this box (run.py --server py) and
as a fallback where hwserve is not built. hwserve is the default: see
tests/sim/README.md for the measurement.

  mockserve.py ADDR PORT [--tls CERT KEY] [--token-rate N] [--ttft-ms MS]
               [--flush-ms MS] [--default-tokens N]
Prints "ready" once it listens.
"""
import argparse
import asyncio
import itertools
import json
import ssl
import sys
import time

WORDS = [" the", " model", " answer", " is", " a", " token", " of", " text",
         " which", " we", " stream", " until", " done", " here", " and", " more"]
ids = itertools.count()


def safe_model(m):
    if not isinstance(m, str):
        return "unknown"
    return "".join(c if (c.isascii() and (c.isalnum() or c in "._:/-")) else "_" for c in m[:64]) or "unknown"


class Server:
    def __init__(self, a):
        self.a = a

    def due(self, t0, i):
        return t0 + self.a.ttft_ms / 1000 + (i / self.a.token_rate if self.a.token_rate > 0 else 0)

    async def wait(self, when):
        d = when - time.monotonic()
        if d > 0:
            await asyncio.sleep(d)

    async def reply(self, w, anthropic, body, body_len):
        try:
            req = json.loads(body)
            if not isinstance(req, dict):
                req = {}
        except ValueError:
            req = {}
        i = next(ids)
        mt = req.get("max_tokens") or req.get("max_completion_tokens")
        ntok = min(int(mt), 16384) if isinstance(mt, int) and mt > 0 else self.a.default_tokens
        in_tok = body_len // 4 + 1
        model = safe_model(req.get("model")) if req.get("model") else "unknown"
        created = int(time.time())
        t0 = time.monotonic()
        toks = [WORDS[(k * 7 + i) & 15] for k in range(ntok)]
        if req.get("stream") is not True:
            if anthropic:
                b = ('{"id":"msg_sim%08x","type":"message","role":"assistant","model":"%s","content":'
                     '[{"type":"text","text":"%s"}],"stop_reason":"max_tokens","stop_sequence":null,'
                     '"usage":{"input_tokens":%d,"output_tokens":%d}}' % (i, model, "".join(toks), in_tok, ntok))
            else:
                b = ('{"id":"chatcmpl-sim%08x","object":"chat.completion","created":%d,"model":"%s",'
                     '"system_fingerprint":"fp_hwserve","choices":[{"index":0,"message":{"role":"assistant",'
                     '"content":"%s"},"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":%d,'
                     '"completion_tokens":%d,"total_tokens":%d}}'
                     % (i, created, model, "".join(toks), in_tok, ntok, in_tok + ntok))
            await self.wait(self.due(t0, ntok))
            b = b.encode()
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(b) + b)
            await w.drain()
            return
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
        await self.wait(self.due(t0, 0))
        if anthropic:
            buf = [('event: message_start\ndata: {"type":"message_start","message":{"id":"msg_sim%08x",'
                    '"type":"message","role":"assistant","content":[],"model":"%s","stop_reason":null,'
                    '"stop_sequence":null,"usage":{"input_tokens":%d,"output_tokens":1}}}\n\n'
                    'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
                    '"content_block":{"type":"text","text":""}}\n\nevent: ping\ndata: {"type": "ping"}\n\n'
                    % (i, model, in_tok))]
            ev = ('event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
                  '{"type":"text_delta","text":"%s"}}\n\n')
        else:
            pre = ('data: {"id":"chatcmpl-sim%08x","object":"chat.completion.chunk","created":%d,"model":"%s",'
                   '"system_fingerprint":"fp_hwserve","choices":[{"index":0,"delta":' % (i, created, model))
            buf = [pre + '{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n']
            ev = pre.replace("%", "%%") + '{"content":"%s"},"logprobs":null,"finish_reason":null}]}\n\n'

        def flush():
            data = "".join(buf).encode()
            buf.clear()
            if data:
                w.write(b"%x\r\n" % len(data) + data + b"\r\n")
        k = 0
        while k < ntok:
            now = time.monotonic()
            while k < ntok and self.due(t0, k) <= now:
                buf.append(ev % toks[k])
                k += 1
            if k < ntok:
                flush()
                await w.drain()
                await self.wait(max(self.due(t0, k), time.monotonic() + self.a.flush_ms / 1000))
        if anthropic:
            buf.append('event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
                       'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"max_tokens",'
                       '"stop_sequence":null},"usage":{"output_tokens":%d}}\n\n'
                       'event: message_stop\ndata: {"type":"message_stop"}\n\n' % ntok)
        else:
            buf.append(pre + '{},"logprobs":null,"finish_reason":"length"}]}\n\ndata: [DONE]\n\n')
        flush()
        w.write(b"0\r\n\r\n")
        await w.drain()

    async def conn(self, r, w):
        try:
            while True:
                head = await r.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split()[:2]
                hdr = {}
                for l in lines[1:]:
                    if ":" in l:
                        k, v = l.split(":", 1)
                        hdr[k.strip().lower()] = v.strip()
                n = int(hdr.get("content-length", "0") or 0)
                body = await r.readexactly(n) if n else b""
                p = path.split("?")[0]
                if method == "POST" and p in ("/v1/chat/completions", "/v1/messages"):
                    await self.reply(w, p == "/v1/messages", body, n)
                else:
                    q = dict(x.split("=", 1) for x in path.partition("?")[2].split("&") if "=" in x)
                    k = int(q.get("n", 100))
                    w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                            b"Content-Length: %d\r\n\r\n" % k + b"x" * k)
                    await w.drain()
                if hdr.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, IndexError, asyncio.LimitOverrunError):
            pass
        finally:
            w.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--token-rate", type=float, default=0)
    ap.add_argument("--ttft-ms", type=float, default=0)
    ap.add_argument("--flush-ms", type=float, default=20)
    ap.add_argument("--default-tokens", type=int, default=128)
    a = ap.parse_args()
    ctx = None
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*a.tls)
        ctx.set_alpn_protocols(["http/1.1"])
    s = Server(a)
    srv = await asyncio.start_server(s.conn, a.addr, a.port, ssl=ctx, backlog=1024, limit=1 << 20)
    print("ready", flush=True)
    async with srv:
        await srv.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
