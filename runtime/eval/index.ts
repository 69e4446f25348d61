// Public surface of the evaluation engine (the CLI and the runtime import from here, not from the
// individual modules). See stdlib/tasks/README.md for the task definition format.

export type * from "./types.js";
export { PyRandom, sampleIndices } from "./pyrandom.js";
export { loadRegistry, resolveTask, leafTasks, groupMembers, findRepoRoot, type TaskRegistry, type ExternalTask } from "./registry.js";
export { DocSplit, loadSplit, readManifest, type DatasetManifest } from "./data.js";
export { loadTask, DataUnavailableError, generationKwargs, type LoadedTask, type LoadOptions } from "./task.js";
export { fewshotContext, fewshotExamples, selectShots, fewshotRng } from "./prompt.js";
export { buildRequests, cutAtStops, type DocRequests } from "./requests.js";
export { evaluate, runTask, type EvaluateOptions, type EvalRun } from "./evaluate.js";
export { aggregateGroup } from "./aggregate.js";
export {
  argmax,
  multipleChoiceScores,
  mc1,
  mc2,
  mc2Score,
  exactMatch,
  mean,
  meanStderr,
  sampleStddev,
  pooledSampleStderr,
  aggregateSubtaskMetrics,
  bootstrapStderr,
  checkGoldIndex,
} from "./metrics.js";
export { applyFilter, regexExtract, DEFAULT_FILTERS } from "./filters.js";
export { MemoryCache, JsonlFileCache, cacheKey, type RequestCache } from "./cache.js";
export { markdownTable, comparisonTable, resultsJson } from "./report.js";
export { buildTaskIndex, type TaskIndex } from "./taskindex.js";
export { eqBenchProcessResults, eqBenchOriginal, scoreFullscale, parseEmotionScores } from "./eqbench.js";
export * as ifeval from "./ifeval/index.js";
export {
  parsePointwiseScore,
  summarizePointwise,
  pairwiseOrder,
  parsePairwiseVerdict,
  pairwiseWinRate,
  type Verdict,
} from "./judge.js";
export { movePairWhitespace, pyLen, utf8Length } from "./pystr.js";
