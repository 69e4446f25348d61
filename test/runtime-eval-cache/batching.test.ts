// Batched log-likelihood scoring (runtime/model/logprobs.ts batchContinuationLogProbs, used by
// InProcessEvalModel.loglikelihood) against the one-request-at-a-time reference (continuationLogProb, itself
// checked against HF transformers in test/runtime-model/parity.test.ts), on the shipped tiny model and real
// requests of shipped tasks: equal within 1e-4 for batch sizes 1, 8 and 32, in the original order; requests
// with the same model input (MMLU's one-token answers " A" … " D") share one row of a forward.
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.js";
import { InProcessEvalModel } from "../../runtime/exec/eval-model.js";
import { batchContinuationLogProbs, continuationLogProb } from "../../runtime/model/logprobs.js";
import type { LoglikelihoodRequest } from "../../runtime/eval/index.js";
import type { ModelValue } from "../../runtime/exec/types.js";
import { taskRequests, tinyModel, withAdapter } from "./helpers.js";

let base: ModelValue;
let tuned: ModelValue;
let reqs: Record<string, LoglikelihoodRequest[]>;

beforeAll(async () => {
  await initBackend("wasm");
  base = await tinyModel();
  tuned = withAdapter(base, "sft", 11);
  reqs = {
    arc_easy: taskRequests("arc_easy", 3),
    piqa: taskRequests("piqa", 4),
    mmlu: taskRequests("mmlu_abstract_algebra", 3, 1),
  };
}, 60_000);

/** The reference: one forward per request, exactly as InProcessEvalModel scored requests before batching. */
function unbatched(m: ModelValue, rs: LoglikelihoodRequest[]): { logprob: number; isGreedy: boolean }[] {
  const em = new InProcessEvalModel(m, null);
  return rs.map((r) => {
    const t = em.tokenizeRequest(r);
    if (t.continuation.length === 0) return { logprob: 0, isGreedy: true };
    const s = continuationLogProb(m.model, [...t.context], [...t.continuation]);
    return { logprob: s.sum, isGreedy: s.isGreedy };
  });
}

describe("batched loglikelihood equals one request at a time", () => {
  for (const task of ["arc_easy", "piqa", "mmlu"]) {
    it(`${task}: batch sizes 1, 8, 32 on the base model, 8 with an adapter`, async () => {
      for (const [m, sizes] of [[base, [1, 8, 32]], [tuned, [8]]] as const) {
        const want = unbatched(m, reqs[task]);
        for (const batchSize of sizes) {
          const got = await new InProcessEvalModel(m, null, null, { batchSize }).loglikelihood(reqs[task]);
          expect(got).toHaveLength(want.length);
          let worst = 0;
          got.forEach((g, i) => {
            worst = Math.max(worst, Math.abs(g.logprob - want[i].logprob));
            expect(g.isGreedy, `${task} request ${i}`).toBe(want[i].isGreedy);
          });
          expect(worst, `${task} batch ${batchSize}`).toBeLessThan(1e-4);
        }
        if (m === tuned) {
          // the adapter changes the answers, so the two models above are not one model compared twice
          const b = unbatched(base, reqs[task]);
          expect(Math.max(...want.map((x, i) => Math.abs(x.logprob - b[i].logprob)))).toBeGreaterThan(1e-3);
        }
      }
    });
  }
});

describe("grouping and order", () => {
  it("MMLU's one-token choices share one row per question: 3 forward rows for 12 requests", () => {
    const em = new InProcessEvalModel(base, null);
    const tok = reqs.mmlu.map((r) => em.tokenizeRequest(r));
    expect(tok.every((t) => t.continuation.length === 1)).toBe(true);
    const rows: number[] = [];
    const hidden = base.model.hidden.bind(base.model);
    base.model.hidden = (batch, ctx) => (rows.push(batch.batch), hidden(batch, ctx));
    try {
      batchContinuationLogProbs(base.model, tok, { batchSize: 32 });
    } finally {
      base.model.hidden = hidden;
    }
    expect(reqs.mmlu).toHaveLength(12);
    expect(rows).toEqual([3]);
  });

  it("returns results in request order whatever the lengths (shuffled and reversed inputs)", async () => {
    const all = [...reqs.arc_easy, ...reqs.piqa];
    const em = new InProcessEvalModel(base, null, null, { batchSize: 8 });
    const forward = await em.loglikelihood(all);
    const reversed = await em.loglikelihood([...all].reverse());
    reversed.reverse().forEach((r, i) => expect(Math.abs(r.logprob - forward[i].logprob)).toBeLessThan(1e-4));
  });

  it("an empty continuation scores 0 and is greedy; an empty context is refused", () => {
    const out = batchContinuationLogProbs(base.model, [{ context: [1, 5], continuation: [] }, { context: [1], continuation: [7, 8] }]);
    expect(out[0]).toEqual({ sum: 0, isGreedy: true });
    expect(out[1].sum).toBeCloseTo(continuationLogProb(base.model, [1], [7, 8]).sum, 4);
    expect(() => batchContinuationLogProbs(base.model, [{ context: [], continuation: [3] }])).toThrow(/empty context/);
  });
});
