// Public surface of the SFT training core: loss, AdamW, schedules, clipping, the accumulation step.
//
// Why this exists: the graph executor drives training through these; one import keeps it decoupled from
// the file layout.

export { AdamW, TORCH_ADAMW_DEFAULTS } from "./adamw.js";
export type { AdamWOptions, AdamWParam, AdamWState } from "./adamw.js";
export { clipGradNorm, globalGradNorm, isDecayed } from "./clip.js";
export {
  IGNORE_INDEX, causalLmLoss, causalLmLossSum, countLabelTokens, maskSegmentStarts, sequenceLogProbSums, shiftedTargets, sumCrossEntropy,
} from "./loss.js";
export type { LmBatch } from "./loss.js";
export { LrSchedule, SCHEDULE_KINDS, lrLambda, totalSteps, warmupSteps } from "./schedule.js";
export type { ScheduleKind } from "./schedule.js";
export { SftTrainer, evalLoss, fullParams, loraParams } from "./step.js";
export type { SftStepOptions, StepLog, TrainableParam } from "./step.js";
