// Where a recipe's relative paths point: next to the recipe first, then the
// current directory, then the tune package itself (so the shipped recipes find
// models/tiny-llama and data/ from anywhere).
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { ExecError, type ExecEnv } from "./types.js";

export function resolveRecipePath(env: Pick<ExecEnv, "recipeDir" | "packageRoot">, path: string, what: string): string {
  if (isAbsolute(path)) {
    if (existsSync(path)) return path;
    throw notFound(path, what, [path]);
  }
  const tried = [join(env.recipeDir, path), resolve(path), join(env.packageRoot, path)];
  const hit = tried.find((p) => existsSync(p));
  if (hit) return hit;
  throw notFound(path, what, tried);
}

function notFound(path: string, what: string, tried: string[]): ExecError {
  return new ExecError("T7103", `${what} \`${path}\` does not exist`, `looked in: ${[...new Set(tried)].join(", ")}; paths are relative to the recipe file, then the current directory`);
}
