// Public API of tune's runtime data pipeline (sources → typed rows → ops → templates → token ids).
//
// Why this exists: the execution graph and the CLI import from one place; the file map is:
//   row.ts (Row, RowStream, OpStream) · errors.ts (DataError, BadRowLog) · rng.ts (seeded xoshiro128**)
//   sources/ (json, jsonl, csv, parquet) · schema.ts + infer.ts (typed rows) · ops/ (filter, dedup, minhash,
//   sample, shuffle, split, mix) · template.ts + tokenize.ts (prompt/completion, masking) · judge-parse.ts.

export * from "./row.js";
export * from "./errors.js";
export * from "./rng.js";
export * from "./hash.js";
export * from "./schema.js";
export * from "./infer.js";
export * from "./sources/index.js";
export { fromParquetValue } from "./sources/parquet.js";
export * from "./ops/filter.js";
export * from "./ops/dedup.js";
export * from "./ops/minhash.js";
export * from "./ops/sample.js";
export * from "./ops/select.js";
export * from "./ops/shuffle.js";
export * from "./ops/split.js";
export * from "./ops/mix.js";
export * from "./template.js";
export * from "./tokenize.js";
export * from "./judge-parse.js";
