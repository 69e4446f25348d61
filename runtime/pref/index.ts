// Public surface of preference tuning: DPO, IPO, hinge, robust, SamPO, iterative rounds, WarmupDecayLR.
//
// Why this exists: the graph executor drives `method = dpo` stages through these; one import keeps it
// decoupled from the file layout: data.ts (rows → token ids) · batch.ts (concatenated batches) · logps.ts
// (weighted completion log-probs) · sampo.ts (down-sampling) · loss.ts (losses, metrics) · reference.ts ·
// trainer.ts (DpoTrainer) · rounds.ts (iterative rounds) · warmup-decay.ts (DeepSpeed WarmupDecayLR).

export { tokenizePair, tokenizePreferenceRows, tokenizePreferences, renderPair } from "./data.js";
export type { PrefDataReport, PrefExample, PrefTemplate, PrefTokenizeOptions } from "./data.js";
export { collatePairs, microBatches, validPositions } from "./batch.js";
export type { PrefBatch, ValidPositions } from "./batch.js";
export { logpSums, resolveWeights, tokenLogProbs, weightedLogpSums } from "./logps.js";
export type { PositionWeights } from "./logps.js";
export { keptSums, sampleWithoutReplacement, sampoDraw } from "./sampo.js";
export type { SampoDraw } from "./sampo.js";
export { DPO_LOSS_KINDS, DPO_METRICS, dpoLoss, dpoMetrics, logSigmoid, sigmoid } from "./loss.js";
export type { DpoLossKind, DpoLossOptions, DpoLossResult, DpoMetricName, PairLogps } from "./loss.js";
export { adapterDisabledReference, cachedReference, frozenCopy, frozenModelReference, NO_REFERENCE } from "./reference.js";
export type { Reference, ReferenceCache } from "./reference.js";
export { DpoTrainer, precomputeReference } from "./trainer.js";
export type { DpoEvalLog, DpoOptions, DpoStepLog } from "./trainer.js";
export { mergeAndRestartAdapter, setupRound, snapshotAdapterReference } from "./rounds.js";
export type { PolicyState, ReferenceSpec, RoundMode, RoundSetup } from "./rounds.js";
export { makeSchedule, PREF_SCHEDULE_KINDS, WarmupDecayLR } from "./warmup-decay.js";
export type { LrSource, PrefScheduleKind, WarmupDecayOptions, WarmupType } from "./warmup-decay.js";
