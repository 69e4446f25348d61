// tune's version: one constant the CLI (--version, SARIF) and the runtime (env.json, tune.lock) share.
export const TUNE_VERSION = "0.1.0";
