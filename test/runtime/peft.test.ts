// PEFT adapter directories: byte-identical to the reference layout (test/fixtures/peft/make_peft_fixture.py),
// exact key list and tensor names/shapes, read-back, and errors.
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adapterConfig, adapterConfigText, peftTensorName, readPeftAdapter, writePeftAdapter, type PeftAdapter,
} from "../../runtime/io/peft.js";
import { readSafetensorsHeader } from "../../runtime/io/safetensors.js";

const FIX = new URL("../fixtures/peft/", import.meta.url).pathname;
const R = 4;
const IN = 8;
const OUT = 6;
const values = (seed: number, n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => (((i * 7 + seed) % 13) - 6) / 8);

/** The adapter make_peft_fixture.py writes. */
function fixtureAdapter(): PeftAdapter {
  const layers: PeftAdapter["layers"] = new Map();
  let seed = 0;
  for (let layer = 0; layer < 2; layer++) {
    for (const proj of ["v_proj", "q_proj"]) {
      seed = layer * 2 + (proj === "q_proj" ? 1 : 2);
      layers.set(`model.layers.${layer}.self_attn.${proj}`, {
        A: { shape: [R, IN], data: values(seed, R * IN) },
        B: { shape: [OUT, R], data: values(seed + 100, OUT * R) },
      });
    }
  }
  return { baseModel: "meta-llama/Llama-3.2-1B", r: R, alpha: 16, dropout: 0.05, targets: ["v_proj", "q_proj"], rslora: false, layers };
}

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tune-peft-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("adapter_config.json", () => {
  it("has exactly PEFT's LoRA keys and values", () => {
    const cfg = adapterConfig({ ...fixtureAdapter(), dropout: 0, rslora: true });
    expect(Object.keys(cfg).sort()).toEqual([
      "alpha_pattern", "auto_mapping", "base_model_name_or_path", "bias", "corda_config", "eva_config", "exclude_modules",
      "fan_in_fan_out", "inference_mode", "init_lora_weights", "layer_replication", "layers_pattern", "layers_to_transform",
      "loftq_config", "lora_alpha", "lora_bias", "lora_dropout", "megatron_config", "megatron_core", "modules_to_save",
      "peft_type", "r", "rank_pattern", "revision", "target_modules", "task_type", "use_dora", "use_rslora",
    ]);
    expect(cfg).toMatchObject({ peft_type: "LORA", task_type: "CAUSAL_LM", bias: "none", r: 4, lora_alpha: 16, use_rslora: true, inference_mode: true });
    expect(adapterConfigText({ ...fixtureAdapter(), dropout: 0 })).toContain('"lora_dropout": 0.0,');
  });

  it("is byte-identical to Python's json.dumps(indent=2, sort_keys=True)", async () => {
    expect(adapterConfigText(fixtureAdapter())).toBe(await readFile(join(FIX, "adapter_config.json"), "utf8"));
  });
});

describe("write / read", () => {
  it("writes both files byte-identical to the reference adapter", async () => {
    const out = join(dir, "adapter");
    await writePeftAdapter(out, fixtureAdapter());
    expect((await readdir(out)).sort()).toEqual(["adapter_config.json", "adapter_model.safetensors"]);
    for (const f of ["adapter_config.json", "adapter_model.safetensors"]) {
      expect((await readFile(join(out, f))).equals(await readFile(join(FIX, f))), f).toBe(true);
    }
    const header = await readSafetensorsHeader(join(out, "adapter_model.safetensors"));
    expect(header.metadata).toEqual({ format: "pt" });
    const byName = new Map(header.tensors.map((t) => [t.name, t]));
    expect(byName.get("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")?.shape).toEqual([R, IN]);
    expect(byName.get("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight")?.shape).toEqual([OUT, R]);
    expect(peftTensorName("model.layers.3.mlp.down_proj", "B")).toBe("base_model.model.model.layers.3.mlp.down_proj.lora_B.weight");
  });

  it("reads the reference adapter back exactly", async () => {
    const a = await readPeftAdapter(FIX);
    const want = fixtureAdapter();
    expect({ ...a, layers: undefined, targets: a.targets.slice().sort() }).toEqual({ ...want, layers: undefined, targets: ["q_proj", "v_proj"] });
    expect([...a.layers.keys()].sort()).toEqual([...want.layers.keys()].sort());
    for (const [m, { A, B }] of want.layers) {
      expect(a.layers.get(m)!.A).toEqual(A);
      expect(a.layers.get(m)!.B).toEqual(B);
    }
  });

  it("stores BF16 adapters when asked", async () => {
    const out = join(dir, "bf16");
    await writePeftAdapter(out, fixtureAdapter(), { dtype: "BF16" });
    const header = await readSafetensorsHeader(join(out, "adapter_model.safetensors"));
    expect(new Set(header.tensors.map((t) => t.dtype))).toEqual(new Set(["BF16"]));
    const back = await readPeftAdapter(out);
    expect(back.layers.get("model.layers.1.self_attn.v_proj")!.A.data).toEqual(fixtureAdapter().layers.get("model.layers.1.self_attn.v_proj")!.A.data);
  });

  it("rejects wrong shapes, unsupported configs and stray tensors", async () => {
    const bad = fixtureAdapter();
    bad.layers.get("model.layers.0.self_attn.q_proj")!.A.shape = [R + 1, IN];
    await expect(writePeftAdapter(join(dir, "bad"), bad)).rejects.toMatchObject({ code: "T6041" });
    const out = join(dir, "dora");
    await writePeftAdapter(out, fixtureAdapter());
    const cfg = JSON.parse(await readFile(join(out, "adapter_config.json"), "utf8"));
    await writeFile(join(out, "adapter_config.json"), JSON.stringify({ ...cfg, use_dora: true }));
    await expect(readPeftAdapter(out)).rejects.toMatchObject({ code: "T6040", message: expect.stringContaining("use_dora") });
    await writeFile(join(out, "adapter_config.json"), JSON.stringify({ ...cfg, r: 8 }));
    await expect(readPeftAdapter(out)).rejects.toMatchObject({ code: "T6041" });
    await expect(readPeftAdapter(join(dir, "nothing"))).rejects.toMatchObject({ code: "T6040" });
  });
});
