// A real OpenAI-compatible chat-completions server on loopback, for the judge tests.
//
// It implements POST /v1/chat/completions with OpenAI's request and response shapes, checks the bearer key and
// the model name like a hosted API (401 / 404 with OpenAI-style error bodies — the 401 body echoes the key, as
// OpenAI's does, so tests can check that our messages redact it), counts requests and the peak number in flight,
// and answers deterministically from the prompt (the rule is restated in fixtures/make_judge_fixture.py):
//   • REPLY<<text>> anywhere in the last user message → `text`;
//   • a pairwise prompt ("### Response 1:" … "### Response 2:") → "1"/"2" naming the longer response, "tie" if equal;
//   • a 0–100 prompt ("score the model response `…`") → min(100, 10 · words of the response);
//   • otherwise → "3".
// Tests can queue scripted answers (429 with Retry-After, 500, HTML, hangs) that are served before the rule.

import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  body: { model: string; messages: { role: string; content: string }[]; temperature?: number; max_tokens?: number; seed?: number };
  headers: IncomingHttpHeaders;
  at: number;
}

export interface Scripted {
  status?: number;
  headers?: Record<string, string>;
  /** Raw body text; default an OpenAI error JSON for non-200, or a completion of `reply`. */
  body?: string;
  reply?: string;
  /** Never answer (the client must time out). */
  hang?: boolean;
}

export interface JudgeServer {
  /** API base, e.g. http://127.0.0.1:41234/v1 */
  base: string;
  requests: SeenRequest[];
  maxInFlight: number;
  /** Served, in order, before the deterministic rule. */
  script: Scripted[];
  /** Per-request delay (ms) before answering. */
  delayMs: number;
  close(): Promise<void>;
}

export interface ServerOptions {
  apiKey?: string | null;
  models?: string[];
  delayMs?: number;
}

export function judgeRule(user: string): string {
  const marker = /REPLY<<([\s\S]*?)>>/.exec(user);
  if (marker) return marker[1];
  const pair = /### Response 1:\n([\s\S]*)\n\n### Response 2:\n([\s\S]*)\n\nAnswer with/.exec(user);
  if (pair) {
    const [a, b] = [[...pair[1]].length, [...pair[2]].length];
    return a === b ? "tie" : a > b ? "1" : "2";
  }
  const point = /score the model response `([\s\S]*)` on a scale from 0 to 100/.exec(user);
  if (point) {
    const words = point[1].split(/\s+/).filter((w) => w.length > 0).length;
    return String(Math.min(100, 10 * words));
  }
  return "3";
}

function completion(model: string, reply: string): string {
  return JSON.stringify({
    id: "chatcmpl-test",
    object: "chat.completion",
    created: 0,
    model,
    choices: [{ index: 0, message: { role: "assistant", content: reply }, finish_reason: "stop" }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });
}

function errorBody(message: string, type: string): string {
  return JSON.stringify({ error: { message, type, param: null, code: null } });
}

export async function startJudgeServer(opts: ServerOptions = {}): Promise<JudgeServer> {
  const apiKey = opts.apiKey === undefined ? "sk-test-0123456789abcdef" : opts.apiKey;
  const models = opts.models ?? ["judge-model"];
  let inFlight = 0;
  const state: Omit<JudgeServer, "close" | "base"> = { requests: [], maxInFlight: 0, script: [], delayMs: opts.delayMs ?? 0 };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, inFlight);
      const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
        setTimeout(() => {
          inFlight--;
          res.writeHead(status, { "content-type": "application/json", ...headers });
          res.end(body);
        }, state.delayMs);
      };
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") return send(404, errorBody(`Unknown path ${req.url}`, "invalid_request_error"));
      let body: SeenRequest["body"];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as SeenRequest["body"];
      } catch {
        return send(400, errorBody("We could not parse the JSON body of your request.", "invalid_request_error"));
      }
      state.requests.push({ body, headers: req.headers, at: Date.now() });
      const scripted = state.script.shift();
      if (scripted?.hang) return; // never answers; the client times out and the socket is destroyed on close
      if (scripted && (scripted.status ?? 200) !== 200) {
        return send(scripted.status!, scripted.body ?? errorBody(`scripted ${scripted.status}`, "server_error"), scripted.headers);
      }
      if (scripted?.body !== undefined) return send(200, scripted.body, scripted.headers);
      const auth = req.headers.authorization ?? "";
      if (apiKey !== null && auth !== `Bearer ${apiKey}`) {
        const given = auth.replace(/^Bearer /, "");
        return send(401, errorBody(`Incorrect API key provided: ${given}. You can find your API key at https://example.invalid.`, "invalid_request_error"));
      }
      if (!models.includes(body.model)) {
        return send(404, errorBody(`The model \`${body.model}\` does not exist or you do not have access to it.`, "invalid_request_error"));
      }
      const user = [...body.messages].reverse().find((m) => m.role === "user")?.content ?? "";
      send(200, completion(body.model, scripted?.reply ?? judgeRule(user)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const out = state as JudgeServer;
  out.base = `http://127.0.0.1:${port}/v1`;
  out.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return out;
}

/** A loopback port with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
