// The storage layer: the content-addressed node-output cache, run directories, run locks and tune.lock.
// The executor (runtime/exec/) and the `tune cache` / `tune runs` commands import from here.

export { CacheStore, cacheKey, defaultCacheRoot, type CacheEntry, type CacheEntryInfo, type CacheEntryMeta, type CacheStoreOptions, type GcReport, type PutMeta, type VerifyLevel } from "./cache.js";
export { asStoreError, STORE_CODES, StoreError, stderrWarnings, type StoreCode, type StoreWarning, type WarningSink } from "./errors.js";
export { readJsonLines, type JsonLines } from "./appender.js";
export { createRun, openRun, readStatusOrThrow, RunDir, RUN_FILES, type CreateRunOptions } from "./run-dir.js";
export { graphChanges, graphHash, type GraphChanges, type NodeState, type NodeStatus, type RunEnv, type RunState, type RunStatus } from "./run-status.js";
export { findResumable, headlineMetrics, listRuns, readRunGraph, readRunInfo, resolveRun, type ResumeCandidate, type RunInfo } from "./runs.js";
export { acquireLock, ownerAlive, readLockOwner, type HeldLock, type LockOwner } from "./pid-lock.js";
export {
  buildLock,
  diffLocks,
  fileIdentity,
  identitySalt,
  LOCKFILE_VERSION,
  lockJsonSchema,
  mergeLock,
  parseLock,
  readLock,
  renderLockDiff,
  serializeLock,
  writeLock,
  type BuildLockInput,
  type Identity,
  type LockChange,
  type LockNode,
  type TuneLock,
} from "./lockfile.js";
export { parseSize, formatBytes } from "./size.js";
export type { JsonValue } from "./fsx.js";
