// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
// The simulator's SDK population: the real openai npm client (v4, pinned in
// package.json), one client per account, each bound to its source address
// with an http(s).Agent({localAddress}). Takes its accounts and schedule from
// the Python generator (loadgen.py) as a JSON file:
//   {"base_url": "http://127.0.0.1:PORT/v1", "start_at": UNIX_S,
//    "accounts": [{"index": N, "key": "sk-...", "concurrency": 1}],
//    "requests": [[t, account, model, prompt, max_tokens|null, stream, src], ...]}
// and prints one JSON line per request (the generator's record format).
// An account's requests run in order on its own (up to `concurrency`) lanes:
// a request waits for its lane's previous one, as an SDK caller's loop does.
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');
const OpenAI = require('openai');

const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const tls = plan.base_url.startsWith('https:');
const clients = new Map(); // "account|src" -> OpenAI client

function client(acct, src) {
  const k = acct.index + '|' + src;
  let c = clients.get(k);
  if (!c) {
    const opts = { keepAlive: true, localAddress: src, maxSockets: acct.concurrency || 1 };
    const agent = tls ? new https.Agent({ ...opts, rejectUnauthorized: false, servername: 'api.sim.test' })
                      : new http.Agent(opts);
    c = new OpenAI({
      apiKey: acct.key,
      baseURL: plan.base_url,
      httpAgent: agent,
      maxRetries: 0, // one request, one exchange: retries would break the count
      timeout: 300 * 1000,
      defaultHeaders: { 'x-api-key': acct.key },
    });
    clients.set(k, c);
  }
  return c;
}

const byIndex = new Map(plan.accounts.map((a) => [a.index, a]));
const lanes = new Map(); // "account|lane" -> promise of the lane's last request
const counters = new Map();
let pending = 0;

function out(rec) {
  process.stdout.write(JSON.stringify(rec) + '\n');
}

async function one(req) {
  const [t, ai, model, prompt, maxTokens, stream, src] = req;
  const acct = byIndex.get(ai);
  const body = { model, messages: [{ role: 'system', content: 'You are a helpful assistant.' },
                                   { role: 'user', content: prompt }] };
  if (maxTokens !== null && maxTokens !== undefined) body.max_tokens = maxTokens;
  const rec = { a: ai, sched: t, src, tool: 'openai-node', model, stream: !!stream,
                start_ns: (BigInt(Date.now()) * 1000000n).toString() };
  const t0 = process.hrtime.bigint();
  const wall0 = BigInt(Date.now()) * 1000000n;
  try {
    const c = client(acct, src);
    if (stream) {
      const s = await c.chat.completions.create({ ...body, stream: true });
      let chunks = 0, done = false;
      for await (const ch of s) {
        chunks++;
        if (ch.choices && ch.choices[0] && ch.choices[0].finish_reason) done = true;
      }
      rec.ok = done;
      rec.chunks = chunks;
    } else {
      const r = await c.chat.completions.create(body);
      rec.ok = !!(r.choices && r.choices.length);
    }
    rec.status = 200;
  } catch (e) {
    rec.ok = false;
    rec.status = e.status || 0;
    rec.err = String(e && e.message || e).slice(0, 200);
  }
  rec.start_ns = Number(wall0) / 1; // as a number, like the Python records
  rec.end_ns = Number(wall0 + (process.hrtime.bigint() - t0));
  out(rec);
}

function schedule(req) {
  const [t, ai] = req;
  const acct = byIndex.get(ai);
  const n = (counters.get(ai) || 0);
  counters.set(ai, n + 1);
  const lane = ai + '|' + (n % (acct.concurrency || 1));
  const prev = lanes.get(lane) || Promise.resolve();
  pending++;
  const p = prev.then(() => new Promise((resolve) => {
    const wait = plan.start_at * 1000 + t * 1000 - Date.now();
    setTimeout(() => one(req).then(resolve, resolve), Math.max(0, wait));
  })).finally(() => { pending--; });
  lanes.set(lane, p);
  return p;
}

(async () => {
  await Promise.all(plan.requests.map(schedule));
  for (const c of clients.values()) {
    const a = c.httpAgent;
    if (a && a.destroy) a.destroy();
  }
  process.stderr.write(`sdkpop: ${plan.requests.length} requests done\n`);
})();
