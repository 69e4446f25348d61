// Child: wait for a start file, then put one cache key whose files all carry this writer's tag.
// argv: cacheRoot key startFile tag bytes. Prints one JSON line: {tag, created, dir}.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gen } from "./gen.mjs";

const { CacheStore } = await import(process.env.TUNE_STORE_BUNDLE);
const [root, key, startFile, tag, bytes] = process.argv.slice(2);
while (!existsSync(startFile)) await new Promise((r) => setTimeout(r, 2));
const cache = new CacheStore({ root });
const entry = await cache.put(
  key,
  async (dir) => {
    await writeFile(join(dir, "a.bin"), gen(tag, Number(bytes)));
    await new Promise((r) => setTimeout(r, 30));
    await mkdir(join(dir, "sub"));
    await writeFile(join(dir, "sub", "tag.txt"), tag);
  },
  { op: "test", nodeId: "test:same", recipe: "t", extra: { tag } },
);
console.log(JSON.stringify({ tag, created: entry.created, dir: entry.dir, entryTag: entry.meta.extra.tag }));
