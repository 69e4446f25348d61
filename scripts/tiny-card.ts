// The model card (README.md) of models/tiny-llama, written by scripts/pretrain-tiny.ts from the run's numbers.
//
// Why this exists: the card must state exactly what was trained, on what, for how long, how well, and how to
// reproduce it; generating it from the run keeps the numbers honest.

import type { LlamaConfig } from "../runtime/model/config.js";

export interface RunSummary {
  config: LlamaConfig;
  params: number;
  steps: number;
  batch: number;
  seq: number;
  lr: number;
  warmup: number;
  seed: number;
  trainDocs: number;
  valDocs: number;
  excluded: number;
  records: number;
  trainTokens: number;
  charsPerToken: number;
  tokensSeen: number;
  unigramEntropy: number;
  /** Mean training loss of each 10-step window, and the lr of its last step. */
  curve: { step: number; loss: number; lr: number }[];
  /** Validation token-mean loss. */
  evals: { step: number; loss: number }[];
  trainSeconds: number;
  device: string;
  merges: number;
  command: string;
}

const f = (x: number, d = 4): string => x.toFixed(d);

function curveTable(s: RunSummary): string {
  const every = Math.max(1, Math.round(s.curve.length / 24));
  const rows = s.curve.filter((_, i) => i % every === every - 1 || i === s.curve.length - 1 || i === 0);
  return ["| step | train loss (10-step mean) | lr |", "|---:|---:|---:|", ...rows.map((r) => `| ${r.step} | ${f(r.loss)} | ${r.lr.toExponential(2)} |`)].join("\n");
}

export function modelCard(s: RunSummary): string {
  const c = s.config;
  const finalTrain = s.curve[s.curve.length - 1]?.loss ?? Number.NaN;
  const finalVal = s.evals[s.evals.length - 1]?.loss ?? Number.NaN;
  const cmd = "npx tsc --module nodenext --moduleResolution nodenext --target es2022 --strict --skipLibCheck --rootDir . " +
    `--outDir dist scripts/pretrain-tiny.ts && node dist/scripts/pretrain-tiny.js${s.command ? ` ${s.command}` : ""}`;
  return `# tiny-llama — tune's shipped tiny model

A ${s.params.toLocaleString("en-US")}-parameter Llama (HF \`LlamaForCausalLM\` layout) pretrained by tune itself, in
process (TensorFlow.js, ${s.device}), on Alpaca instruction data shipped in this repository. It stands in for real
base models in \`tune run --smoke\` and in tests: same architecture family, same file formats, small enough to
fine-tune on a laptop CPU in minutes. It is **not** a useful assistant; it writes Alpaca-flavoured English.

## Architecture (stdlib/models.tune \`tiny_llama\`)
| | |
|---|---|
| vocabulary | ${c.vocabSize} (byte-level BPE, ${s.merges} merges) |
| hidden / intermediate | ${c.hiddenSize} / ${c.intermediateSize} (SwiGLU) |
| layers / heads / kv heads / head dim | ${c.numLayers} / ${c.numHeads} / ${c.numKvHeads} / ${c.headDim} |
| max positions / rope θ | ${c.maxPositionEmbeddings} / ${c.ropeTheta} |
| RMSNorm ε | ${c.rmsNormEps} |
| tied embeddings | ${c.tieWordEmbeddings} |
| parameters | ${s.params.toLocaleString("en-US")} |
| weights | \`model.safetensors\`, float32 |

Special tokens (ids): \`<pad>\` 0, \`<|begin_of_text|>\` 1 (BOS, prepended by the tokenizer's post-processor),
\`<|end_of_text|>\` 2 (EOS), \`<|start_header_id|>\` 3, \`<|end_header_id|>\` 4, \`<|eot_id|>\` 5, \`<|im_start|>\` 6,
\`<|im_end|>\` 7 — so the stdlib templates \`alpaca\`, \`llama3_chat\` and \`chatml\` tokenize as with Llama 3 / ChatML
models. \`generation_config.json\` stops on ids 2, 5 and 7. The special tokens other than BOS/EOS never occur in the
pretraining text; their embeddings are untrained until fine-tuning uses them.

## Data and license
\`data/pretrain/random_9k.json\` (${s.records} Stanford Alpaca records sampled by the AlpaGasus authors; see
\`data/pretrain/SOURCE.md\`). ${s.excluded} records whose instruction + input also occur in the fine-tuning sets shipped in
\`data/\` are dropped, so fine-tuning on those sets measures learning on unseen examples. Each record is one document
\`instruction\\n\\n[input\\n\\n]output\` between BOS and EOS (no prompt template). Seeded split: ${s.trainDocs} training and
${s.valDocs} validation documents. **License: CC BY-NC 4.0** (Alpaca data; research, non-commercial use), which this
model inherits.

## Training
- Tokenizer: byte-level BPE trained on the training documents (runtime/tokenizer/bpe-trainer.ts), ${f(s.charsPerToken, 2)}
  characters per token; ${s.trainTokens.toLocaleString("en-US")} training tokens.
- Model: HF initialisation (N(0, 0.02), norms 1), seed ${s.seed}; full training, AdamW (β = 0.9, 0.95; ε 1e-8;
  weight decay 0.1, none on norms), lr ${s.lr} with ${s.warmup} warmup steps then cosine to 0, gradient clipping 1.0.
- ${s.steps} steps × ${s.batch} rows × ${s.seq} tokens = **${s.tokensSeen.toLocaleString("en-US")} tokens seen**
  (${f(s.tokensSeen / s.trainTokens, 2)} epochs). Rows pack whole documents; attention stays within a document,
  positions restart per document, and a document's first token carries no loss.
- Wall time: ${Math.round(s.trainSeconds)} s of training on one CPU core (${Math.round(s.tokensSeen / s.trainSeconds)} tokens/s).

## Results
- Unigram entropy of the training tokens (the loss of a context-free model): **${f(s.unigramEntropy)} nats**.
- Final training loss (mean of the last 10 steps): **${f(finalTrain)}**; final validation loss: **${f(finalVal)}**
  (token mean over the ${s.valDocs} held-out documents).

Validation loss during training:

| step | validation loss |
|---:|---:|
${s.evals.map((e) => `| ${e.step} | ${f(e.loss)} |`).join("\n")}

Training loss curve:

${curveTable(s)}

## Reproduce
From the repository root (Node 20):
\`\`\`
${cmd}
\`\`\`
The run is seeded (data order, tokenizer, initialisation) and the wasm backend runs single-threaded, so the same
command on the same build reproduces the same weights.
`;
}
