// The T72xx catalogue stays in step with the codes runtime/data/hub raises.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HUB_CATALOGUE, HubDatasetError } from "../../runtime/data/hub/index.js";

describe("hub dataset codes", () => {
  it("every T72xx code raised under runtime/data/hub has a title and an explanation, and every entry is raised", () => {
    const dir = "runtime/data/hub";
    const used = new Set<string>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".ts") && n !== "errors.ts")) {
      for (const m of readFileSync(join(dir, f), "utf8").matchAll(/"(T72\d\d)"/g)) used.add(m[1]);
    }
    expect([...used].sort()).toEqual(Object.keys(HUB_CATALOGUE).sort());
    for (const [code, info] of Object.entries(HUB_CATALOGUE)) {
      expect(info.title.length, code).toBeGreaterThan(10);
      expect(info.explanation.length, code).toBeGreaterThan(60);
    }
  });

  it("renders like the CLI prints errors", () => {
    expect(new HubDatasetError("T7201", "gone", "bring it back").render()).toBe("error[T7201]: gone\n  = help: bring it back");
  });
});
