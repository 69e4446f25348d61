// The judge client against a real chat-completions server on loopback: request shape, retries with backoff and
// Retry-After, timeouts, the concurrency cap as the server sees it, and every error code with its hint.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JudgeError, buildJudge, backoffDelay, retryAfterMs, type Judge, type LocalGenerator } from "../../runtime/judge/index.js";
import { closedPort, startJudgeServer, type JudgeServer } from "./judge-server.js";

const KEY = "sk-test-0123456789abcdef";
const ENV = { TUNE_TEST_JUDGE_KEY: KEY };
const FAST = { baseMs: 5, maxMs: 2000 };

let server: JudgeServer;
beforeEach(async () => {
  server = await startJudgeServer({ apiKey: KEY });
});
afterEach(async () => {
  await server.close();
});

function judge(over: Record<string, unknown> = {}, env: Record<string, string | undefined> = ENV, timeoutMs?: number): Judge {
  const params = { name: "test_judge", endpoint: server.base, api_model: "judge-model", api_key_env: "TUNE_TEST_JUDGE_KEY", temperature: 0, max_tokens: 64, concurrency: 4, retries: 3, model: null, ...over };
  return buildJudge(params, { env, backoff: FAST, timeoutMs });
}

async function rejection(p: Promise<unknown>): Promise<JudgeError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof JudgeError) return e;
    throw e;
  }
  throw new Error("expected the promise to reject");
}

const ASK = [{ role: "user" as const, content: "REPLY<<4.5\nfine>> rate this" }];

describe("endpoint judge: requests", () => {
  it("POSTs {base}/chat/completions with model, messages, temperature, max_tokens, seed and the bearer key", async () => {
    const j = judge({ seed: 123, max_tokens: 50, temperature: 0.2 });
    const reply = await j.complete([{ role: "system", content: "be fair" }, ...ASK]);
    expect(reply).toBe("4.5\nfine");
    expect(server.requests).toHaveLength(1);
    const r = server.requests[0];
    expect(r.body).toEqual({ model: "judge-model", messages: [{ role: "system", content: "be fair" }, ...ASK], temperature: 0.2, max_tokens: 50, seed: 123 });
    expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(r.headers["content-type"]).toBe("application/json");
    expect(j.id).toBe(`openai:${server.base}|judge-model`);
    expect(j.id).not.toContain(KEY);
  });

  it("sends no seed when the recipe gives none, and accepts a trailing slash on the endpoint", async () => {
    const j = judge({ endpoint: `${server.base}/` });
    await j.complete(ASK);
    expect(server.requests[0].body).not.toHaveProperty("seed");
    expect(j.id).toBe(`openai:${server.base}|judge-model`);
  });

  it("sends no Authorization header when the judge names no api_key_env (local servers)", async () => {
    const open = await startJudgeServer({ apiKey: null });
    try {
      const j = buildJudge({ name: "local_vllm", endpoint: open.base, api_model: "judge-model", model: null });
      expect(await j.complete(ASK)).toBe("4.5\nfine");
      expect(open.requests[0].headers.authorization).toBeUndefined();
    } finally {
      await open.close();
    }
  });

  it("never lets more than `concurrency` requests be in flight at the server", async () => {
    server.delayMs = 40;
    const j = judge({ concurrency: 3 });
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => j.complete([{ role: "user", content: `REPLY<<${i}>>` }])));
    expect(replies).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    expect(server.requests).toHaveLength(12);
    expect(server.maxInFlight).toBe(3);
  });
});

describe("endpoint judge: retries", () => {
  it("waits as long as Retry-After says on a 429, then succeeds", async () => {
    server.script.push({ status: 429, headers: { "retry-after": "1" } });
    const j = judge();
    const t0 = Date.now();
    expect(await j.complete(ASK)).toBe("4.5\nfine");
    const waited = server.requests[1].at - server.requests[0].at;
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(j.counters).toEqual({ requests: 2, retries: 1 });
  });

  it("honours OpenAI's retry-after-ms header", async () => {
    server.script.push({ status: 429, headers: { "retry-after-ms": "300" } });
    const j = judge();
    await j.complete(ASK);
    expect(server.requests[1].at - server.requests[0].at).toBeGreaterThanOrEqual(280);
  });

  it("retries 5xx with backoff and gives up after `retries` retries with T5607", async () => {
    server.script.push({ status: 500 }, { status: 502 });
    const j = judge();
    expect(await j.complete(ASK)).toBe("4.5\nfine");
    expect(server.requests).toHaveLength(3);

    server.script.push({ status: 503 }, { status: 503 }, { status: 503 });
    const e = await rejection(judge({ retries: 2 }).complete(ASK));
    expect(e.code).toBe("T5607");
    expect(e.status).toBe(503);
    expect(e.message).toContain("HTTP 503 3 time(s)");
    expect(e.hint).toContain("cached");
    expect(server.requests).toHaveLength(6);
  });

  it("times out a request that never answers, retries it, and reports T5606", async () => {
    server.script.push({ hang: true }, { hang: true });
    const e = await rejection(judge({ retries: 1 }, ENV, 150).complete(ASK));
    expect(e.code).toBe("T5606");
    expect(e.message).toContain("150 ms");
    expect(server.requests).toHaveLength(2);
  });

  it("recovers when a timed-out request succeeds on retry", async () => {
    server.script.push({ hang: true });
    const j = judge({ retries: 1 }, ENV, 150);
    expect(await j.complete(ASK)).toBe("4.5\nfine");
    expect(j.counters.retries).toBe(1);
  });
});

describe("endpoint judge: errors", () => {
  it("T5601: an unset key variable is named, and nothing is sent", async () => {
    const e = await rejection(judge({}, {}).complete(ASK));
    expect(e.code).toBe("T5601");
    expect(e.message).toContain("$TUNE_TEST_JUDGE_KEY");
    expect(e.hint).toContain("export TUNE_TEST_JUDGE_KEY=");
    expect(e.unavailable).toBe(true);
    expect(server.requests).toHaveLength(0);
  });

  it("T5602: a rejected key is not retried and never appears in the message", async () => {
    const wrong = "sk-wrong-key-ABCDEFGHIJKLMNOP";
    const e = await rejection(judge({}, { TUNE_TEST_JUDGE_KEY: wrong }).complete(ASK));
    expect(e.code).toBe("T5602");
    expect(e.status).toBe(401);
    expect(e.message).toContain("rejected the API key from $TUNE_TEST_JUDGE_KEY (HTTP 401)");
    expect(e.message).toContain("Incorrect API key provided: ***");
    expect(e.render()).not.toContain(wrong);
    expect(server.requests).toHaveLength(1);
  });

  it("T5603: an unknown model names the model and where to list models", async () => {
    const e = await rejection(judge({ api_model: "gpt-5-nonexistent" }).complete(ASK));
    expect(e.code).toBe("T5603");
    expect(e.message).toContain('model "gpt-5-nonexistent"');
    expect(e.message).toContain("does not exist");
    expect(e.hint).toContain(`GET ${server.base}/models`);
  });

  it("T5604: an HTML page (a proxy, a wrong base URL) is not a completion", async () => {
    server.script.push({ body: "<html><body>Please log in</body></html>", headers: { "content-type": "text/html" } });
    const e = await rejection(judge().complete(ASK));
    expect(e.code).toBe("T5604");
    expect(e.message).toContain("not JSON: <html>");
    server.script.push({ body: JSON.stringify({ object: "list", data: [] }) });
    expect((await rejection(judge().complete(ASK))).message).toContain("without choices[0].message");
  });

  it("T5605: an endpoint nobody listens on, after the retries, suggests a local judge", async () => {
    const port = await closedPort();
    const j = buildJudge({ name: "offline", endpoint: `http://127.0.0.1:${port}/v1`, api_model: "m", retries: 1 }, { backoff: FAST });
    const e = await rejection(j.complete(ASK));
    expect(e.code).toBe("T5605");
    expect(e.message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions \(.*ECONNREFUSED.*\) after 2 attempt/);
    expect(e.hint).toContain("local judge model");
    expect(e.unavailable).toBe(true);
  });

  it("T5608: other 4xx answers carry the server's message and are not retried", async () => {
    server.script.push({ status: 400, body: JSON.stringify({ error: { message: "This model's maximum context length is 4097 tokens." } }) });
    const e = await rejection(judge().complete(ASK));
    expect(e.code).toBe("T5608");
    expect(e.message).toContain("maximum context length");
    expect(server.requests).toHaveLength(1);
  });

  it("T5609: bad settings are refused before any request", () => {
    const base = { name: "j", model: null };
    expect(() => buildJudge(base)).toThrow(/names neither a local `model` nor an `endpoint`/);
    expect(() => buildJudge({ ...base, endpoint: server.base })).toThrow(/names no api_model/);
    expect(() => buildJudge({ ...base, endpoint: "localhost:8000", api_model: "m" })).toThrow(/not an http\(s\) URL/);
    expect(() => buildJudge({ ...base, endpoint: server.base, api_model: "m", concurrency: 0 })).toThrow(/concurrency is 0, expected an integer ≥ 1/);
    expect(() => buildJudge({ name: "j", model: "judge_llm" })).toThrow(/uses the local model judge_llm, but no generator/);
    try {
      buildJudge(base);
    } catch (e) {
      expect((e as JudgeError).code).toBe("T5609");
    }
  });
});

describe("local judge", () => {
  it("runs the generator one call at a time with the recipe's sampling settings", async () => {
    let active = 0;
    let peak = 0;
    const calls: unknown[] = [];
    const gen: LocalGenerator = {
      id: "sha256:weights-abc",
      async generate(messages, opts) {
        active++;
        peak = Math.max(peak, active);
        calls.push(opts);
        await new Promise((r) => setTimeout(r, 5));
        active--;
        return `echo ${messages[messages.length - 1].content}`;
      },
    };
    const j = buildJudge({ name: "llama3_judge", temperature: 0, max_tokens: 50, concurrency: 4, retries: 3, seed: 123, model: "judge_llm" }, { generator: gen });
    expect(j.id).toBe("local:sha256:weights-abc");
    expect(j.concurrency).toBe(1);
    const out = await Promise.all(["a", "b", "c"].map((c) => j.complete([{ role: "user", content: c }])));
    expect(out).toEqual(["echo a", "echo b", "echo c"]);
    expect(peak).toBe(1);
    expect(calls[0]).toEqual({ maxTokens: 50, temperature: 0, seed: 123 });
  });

  it("turns a generator failure into T5612 naming the model", async () => {
    const gen: LocalGenerator = { id: "m1", generate: async () => Promise.reject(new Error("out of memory")) };
    const e = await rejection(buildJudge({ name: "j", model: "judge_llm" }, { generator: gen }).complete(ASK));
    expect(e.code).toBe("T5612");
    expect(e.message).toContain("local judge model m1 (judge j) failed: out of memory");
  });
});

describe("backoff arithmetic", () => {
  it("doubles per attempt with jitter in [0.5, 1), caps, and lets Retry-After win", () => {
    const o = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(0, o, null, () => 0)).toBe(50);
    expect(backoffDelay(2, o, null, () => 0.999999)).toBe(400);
    expect(backoffDelay(10, o, null, () => 0.999999)).toBe(1000);
    expect(backoffDelay(0, o, 700, () => 0)).toBe(700);
    expect(backoffDelay(0, o, 99_000, () => 0)).toBe(1000);
  });

  it("reads Retry-After as seconds or an HTTP date, and retry-after-ms", () => {
    expect(retryAfterMs(new Headers({ "retry-after": "2" }))).toBe(2000);
    expect(retryAfterMs(new Headers({ "retry-after-ms": "250", "retry-after": "9" }))).toBe(250);
    const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
    expect(retryAfterMs(new Headers({ "retry-after": "Wed, 21 Oct 2015 07:28:03 GMT" }), now)).toBe(3000);
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }))).toBeNull();
    expect(retryAfterMs(new Headers())).toBeNull();
  });
});
