// checkTorchEnvironment runs the real probe through execa (this machine's python3: no torch, so T7603 etc.);
// evaluateProbe's rules are checked on probe objects shaped like the probe's output on a GPU machine.
import { describe, expect, test } from "vitest";
import { checkTorchEnvironment, evaluateProbe, type EnvProbe, type TorchRequirements } from "../../runtime/torch/index.js";
import { compileRecipe } from "./helpers.js";

const BASE: TorchRequirements = { adapters: true, quantize: false, deepspeed: false, zero: null, fsdp: false, gpus: 1, nodes: 1, evals: false, flashAttention: false };

function gpuProbe(over: Partial<Record<string, { installed: boolean; version?: string; import_error?: string }>> = {}, gpus = 1): EnvProbe {
  const v = (version: string) => ({ installed: true, version });
  return {
    python: { version: "3.12.3", executable: "/opt/venv/bin/python3" },
    platform: "Linux",
    packages: {
      torch: v("2.5.1"), transformers: v("4.46.3"), peft: v("0.13.2"), accelerate: v("1.1.1"), safetensors: v("0.4.5"),
      bitsandbytes: { installed: false }, deepspeed: { installed: false }, lm_eval: { installed: false }, flash_attn: { installed: false },
      ...over,
    },
    cuda: { available: gpus > 0, torch_cuda: "12.1", devices: Array.from({ length: gpus }, (_, i) => ({ index: i, name: "NVIDIA H100 80GB HBM3", memory_bytes: 85e9, capability: "9.0" })), bf16: true },
    commands: { accelerate: "/opt/venv/bin/accelerate", lm_eval: null, sbatch: null },
  };
}

describe("checkTorchEnvironment (real probe)", () => {
  test("this machine's python3 runs the probe; what is missing is reported with codes and hints", async () => {
    const r = await checkTorchEnvironment("python3", { graph: compileRecipe("platypus-70b-qlora.tune").graph });
    expect(r.probe?.python.version).toMatch(/^3\.\d+/);
    const codes = r.findings.map((f) => f.code);
    if (!r.probe!.packages["torch"]!.installed) {
      expect(r.ok).toBe(false);
      expect(codes).toContain("T7603");
      expect(r.findings.find((f) => f.code === "T7603")!.hint).toMatch(/pip install torch==/);
    }
    if (!r.probe!.packages["bitsandbytes"]!.installed) expect(codes).toContain("T7609");
    if (!r.probe!.packages["deepspeed"]!.installed) expect(codes).toContain("T7610");
    expect(r.summary).toMatch(/^Python 3\./);
  });

  test("an interpreter that does not exist is T7601", async () => {
    const r = await checkTorchEnvironment("/nonexistent/python3");
    expect(r.ok).toBe(false);
    expect(r.findings[0]).toMatchObject({ code: "T7601", severity: "error" });
  });
});

describe("evaluateProbe", () => {
  test("a complete single-GPU environment passes a LoRA recipe", () => {
    expect(evaluateProbe(gpuProbe(), BASE)).toEqual([]);
  });

  test("QLoRA needs bitsandbytes that imports; ZeRO needs deepspeed; old transformers is refused", () => {
    const q = evaluateProbe(gpuProbe({ bitsandbytes: { installed: true, version: "0.44.1", import_error: "RuntimeError: CUDA Setup failed" } }), { ...BASE, quantize: true });
    expect(q.map((f) => [f.code, f.severity])).toEqual([["T7609", "error"]]);
    expect(q[0]!.message).toMatch(/does not import: RuntimeError/);
    expect(evaluateProbe(gpuProbe(), { ...BASE, deepspeed: true, zero: 3 })[0]).toMatchObject({ code: "T7610", message: expect.stringMatching(/ZeRO-3/) });
    expect(evaluateProbe(gpuProbe({ transformers: { installed: true, version: "4.36.2" } }), BASE)[0]).toMatchObject({ code: "T7604" });
  });

  test("fewer GPUs than asked, no lm_eval, no flash-attn are warnings; no GPU with QLoRA is an error", () => {
    const f = evaluateProbe(gpuProbe({}, 2), { ...BASE, gpus: 8, evals: true, flashAttention: true });
    expect(f.map((x) => [x.code, x.severity])).toEqual([["T7608", "warning"], ["T7611", "warning"], ["T7613", "warning"]]);
    expect(evaluateProbe(gpuProbe({}, 0), BASE).map((x) => [x.code, x.severity])).toEqual([["T7607", "warning"]]);
    expect(evaluateProbe(gpuProbe({ bitsandbytes: { installed: true, version: "0.44.1" } }, 0), { ...BASE, quantize: true }).map((x) => [x.code, x.severity])).toEqual([["T7607", "error"]]);
  });

  test("a CPU stand-in run (--smoke) degrades QLoRA / ZeRO to warnings; with a GPU nothing is relaxed", () => {
    const needs = { ...BASE, quantize: true, deepspeed: true, zero: 3 };
    const cpu = evaluateProbe(gpuProbe({}, 0), needs, { cpuFallback: true });
    expect(cpu.map((x) => [x.code, x.severity])).toEqual([["T7607", "warning"]]);
    expect(cpu[0]!.message).toMatch(/trains on the CPU without 4-bit quantization/);
    expect(evaluateProbe(gpuProbe({}, 0), needs).map((x) => [x.code, x.severity])).toEqual([["T7607", "error"], ["T7609", "error"], ["T7610", "error"]]);
    expect(evaluateProbe(gpuProbe({}, 1), needs, { cpuFallback: true }).map((x) => [x.code, x.severity])).toEqual([["T7609", "error"], ["T7610", "error"]]);
  });
});
