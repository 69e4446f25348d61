// An exclusive lock file owned by one process (a run directory's `run.lock`), with stale-lock takeover.
//
// Why this exists: two `tune run --resume` of the same run would interleave checkpoints and metrics. The lock is a
// file created with O_EXCL holding the owner's pid, host and kernel start time. A lock whose owner is gone (killed
// with -9, machine rebooted) is stale: the next process takes it over, with a warning. Takeover itself is guarded
// by a second O_EXCL file named after the stale owner, so two processes finding the same stale lock cannot both win.

import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { errnoCode, StoreError, type StoreWarning } from "./errors.js";
import { HOST, processAlive, processStartTime, syncDirSync } from "./fsx.js";

export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** Kernel start time of the owner (Linux), to tell a live owner from a later process reusing its pid. */
  readonly startTime: number | null;
  readonly since: string;
  readonly token: string;
}

export interface HeldLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** The stale owner this lock replaced, if any. */
  readonly tookOverFrom: LockOwner | null;
  release(): void;
  /** The same lock after its file was moved along with its directory (a run assembled under a temp name). */
  moved(newPath: string): HeldLock;
}

/** Read a lock file; null when absent or unreadable (a torn lock file is treated as stale). */
export function readLockOwner(path: string): LockOwner | null {
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as LockOwner;
    return typeof v.pid === "number" && typeof v.token === "string" ? v : null;
  } catch {
    return null;
  }
}

/** Whether a lock's owner is (as far as this host can tell) still running. Other hosts' locks count as live. */
export function ownerAlive(owner: LockOwner | null): boolean {
  if (!owner) return false;
  if (owner.host !== HOST) return true;
  return processAlive(owner.pid, owner.startTime);
}

function newOwner(): LockOwner {
  return { pid: process.pid, host: HOST, startTime: processStartTime(process.pid), since: new Date().toISOString(), token: randomBytes(8).toString("hex") };
}

/**
 * Create `path` exclusively holding `text`; false when it already exists. The text is written and fsynced to a
 * private temp file first and hard-linked into place, so a lock file is never seen empty or half-written.
 */
function createExclusive(path: string, text: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (e) {
    if (errnoCode(e) === "EEXIST") return false;
    throw e;
  } finally {
    unlinkQuiet(tmp);
  }
  syncDirSync(dirname(path));
  return true;
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Take the lock at `path` or throw T9103 naming the live owner. `what` names the locked thing in messages
 * ("run alpagasus-…"); `warn` receives the T9104 warning on a stale takeover.
 */
export function acquireLock(path: string, what: string, warn: (w: StoreWarning) => void): HeldLock {
  const owner = newOwner();
  const text = JSON.stringify(owner) + "\n";
  for (let attempt = 0; attempt < 20; attempt++) {
    if (createExclusive(path, text)) return held(path, owner, null);
    const current = readLockOwner(path);
    if (current && ownerAlive(current)) {
      throw new StoreError(
        "T9103",
        `${what} is in use by process ${current.pid} on ${current.host} (since ${current.since})`,
        `wait for it to finish or stop it; if no such process runs, delete ${path}`,
      );
    }
    const stale = current ?? null;
    const guard = `${path}.takeover-${stale ? `${stale.pid}-${stale.token}` : "torn"}`;
    if (!createExclusive(guard, text)) {
      const guardOwner = readLockOwner(guard);
      if (!ownerAlive(guardOwner)) unlinkQuiet(guard); // a taker died mid-takeover
      sleepMs(20);
      continue;
    }
    try {
      const again = readLockOwner(path);
      if ((again?.token ?? null) !== (stale?.token ?? null)) continue; // someone else finished a takeover
      unlinkQuiet(path);
      if (!createExclusive(path, text)) continue;
    } finally {
      unlinkQuiet(guard);
    }
    warn({
      code: "T9104",
      message: stale
        ? `${what} was locked by process ${stale.pid} on ${stale.host}, which is no longer running; taking the lock over`
        : `${what} had an unreadable lock file; taking the lock over`,
      hint: "the previous run was killed; its last complete node and checkpoint are kept",
    });
    return held(path, owner, stale);
  }
  throw new StoreError("T9103", `${what}: could not take the lock at ${path}`, "another process keeps taking it; retry when it has finished");
}

function held(path: string, owner: LockOwner, tookOverFrom: LockOwner | null): HeldLock {
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.removeListener("exit", release);
    if (readLockOwner(path)?.token === owner.token) unlinkQuiet(path);
  };
  const moved = (newPath: string): HeldLock => {
    process.removeListener("exit", release);
    released = true;
    return held(newPath, owner, tookOverFrom);
  };
  process.on("exit", release); // a normal exit or process.exit() frees the lock; kill -9 leaves it stale
  return { path, owner, tookOverFrom, release, moved };
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
