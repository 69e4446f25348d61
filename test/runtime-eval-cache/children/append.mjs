// Child for the SIGKILL test: appends request-cache records as fast as it can until killed.
// argv: file incarnation. Prints "ready" once appending starts.
import { valueFor } from "./value.mjs";

const { JsonlFileCache } = await import(process.env.TUNE_EVAL_CACHE_BUNDLE);
const [file, incarnation] = process.argv.slice(2);
const cache = new JsonlFileCache(file, { warn: (m) => console.log(`warning ${m}`) });
console.log("ready");
for (let i = 0; ; i++) {
  const key = `k-${incarnation}-${i}`;
  cache.set(key, valueFor(key));
  if (i % 50 === 0) await new Promise((r) => setImmediate(r));
}
