import { describe, expect, test } from "vitest";
import type { Graph } from "../../compiler/graph.js";
import { estimateGraph } from "../../compiler/plan/estimate.js";
import { memoryDiagnostics } from "../../compiler/plan/memory-check.js";
import { compileText, sftRecipe } from "./helpers.js";

const check = (g: Graph) => memoryDiagnostics(g, estimateGraph(g));

describe("T4010: estimate exceeds device memory", () => {
  test("a full fine-tune of Llama-2-7B on one 24 GB L4 warns at the stage, with remedies", () => {
    const g = compileText(sftRecipe({ hardware: "gpu = l4\n  devices = 1\n  strategy = single" }));
    const [d, ...rest] = check(g);
    expect(rest).toHaveLength(0);
    expect(d!.code).toBe("T4010");
    expect(d!.severity).toBe("warning");
    const train = g.nodes.find((n) => n.op === "train")!;
    expect(d!.labels[0]!.span).toEqual(train.origin);
    expect(d!.message).toMatch(/^stage `s` needs about \d+\.\d GiB per device, more than the 22\.4 GiB of one l4$/);
    expect(d!.help).toContain("QLoRA");
    expect(d!.help).toContain("gradient_checkpointing = true");
    expect(d!.help).toContain("smaller `micro_batch`");
    expect(d!.help).toContain("ZeRO-2");
    expect(d!.notes[0]).toMatch(/^per device: weights 12\.6 GiB \+ gradients 12\.6 GiB \+ optimizer 75\.3 GiB \+ activations/);
  });

  test("remedies already in place are not suggested", () => {
    const g = compileText(
      sftRecipe({
        adapter: "method = qlora\n  r = 64\n  targets = all_linear",
        micro: 1,
        stage: "cutoff = 8192 tokens\n  gradient_checkpointing = true",
        hardware: "memory = 4 GiB\n  devices = 1\n  strategy = single",
      }),
    );
    const [d] = check(g);
    expect(d).toBeDefined();
    expect(d!.message).toContain("more than the 4.0 GiB device memory");
    expect(d!.help).toBeNull();
  });

  test("no warning when it fits, or when there is no device to compare with", () => {
    const lora = "method = lora\n  r = 8";
    expect(check(compileText(sftRecipe({ adapter: lora, hardware: "gpu = a100_80gb\n  strategy = single" })))).toEqual([]);
    expect(check(compileText(sftRecipe({})))).toEqual([]);
    expect(check(compileText(sftRecipe({ hardware: "gpu = cpu\n  strategy = single" })))).toEqual([]);
  });

  test("LoRA on too small a device: ZeRO-3 and QLoRA help, ZeRO-2 (adapter state only) is not offered", () => {
    const g = compileText(sftRecipe({ adapter: "method = lora\n  r = 8", hardware: "gpu = l4\n  devices = 2\n  strategy = ddp" }));
    const [d] = check(g);
    expect(d!.help).toContain("QLoRA");
    expect(d!.help).toContain("ZeRO-3");
    expect(d!.help).not.toContain("ZeRO-2");
  });

  test("ZeRO-2 on 8 devices is suggested by name and device count", () => {
    const g = compileText(sftRecipe({ hardware: "gpu = a100_40gb\n  devices = 8\n  strategy = ddp" }));
    const [d] = check(g);
    expect(d!.help).toContain("shards gradients and optimizer state across the 8 devices");
    expect(d!.labels[0]!.message).toContain("DDP × 8 devices");
  });
});
