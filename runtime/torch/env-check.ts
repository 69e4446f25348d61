// Environment check before a torch run: is there a Python with torch, transformers, PEFT, accelerate, CUDA
// devices, and — when the recipe needs them — bitsandbytes, DeepSpeed, lm_eval, flash-attn?
//
// Why this exists: the PyTorch executor's failures otherwise surface deep inside a launched job (after minutes of
// weight loading, on every rank at once). One probe (tune_torch/check_env.py, the same file the exported project
// ships) is run through execa with a timeout; its JSON is turned into findings, each with a code, a message that
// names the missing piece and a hint with the command that fixes it. Errors block the run; warnings (fewer GPUs,
// no lm_eval, no flash-attn, CPU only) do not.
import { execa } from "execa";
import type { Graph } from "../../compiler/graph.js";
import { probeSource } from "./assets.js";
import type { TorchCode } from "./errors.js";
import { PINNED } from "./configs.js";
import { planTorchProject, type TorchRequirements } from "./plan.js";

export interface EnvFinding {
  code: TorchCode;
  severity: "error" | "warning";
  message: string;
  hint: string;
}

export interface ProbePackage {
  installed: boolean;
  version?: string;
  error?: string;
  import_error?: string;
}

export interface EnvProbe {
  python: { version: string; executable: string };
  platform: string;
  packages: Record<string, ProbePackage>;
  cuda: { available: boolean; torch_cuda?: string | null; devices: { index: number; name: string; memory_bytes: number; capability: string }[]; bf16?: boolean; error?: string };
  commands: Record<string, string | null>;
}

export interface EnvReport {
  ok: boolean;
  python: string;
  probe: EnvProbe | null;
  findings: EnvFinding[];
  /** "torch 2.5.1, transformers 4.46.3, …, 8 × NVIDIA H100 80GB HBM3". */
  summary: string;
}

export interface EnvCheckOptions {
  /** What the recipe needs (default: plain LoRA/full training on one GPU). */
  requirements?: Partial<TorchRequirements>;
  graph?: Graph;
  timeoutMs?: number;
  /**
   * A CPU stand-in run (`tune run --executor torch --smoke`): without CUDA the programs train LoRA instead of
   * QLoRA, torch AdamW instead of bitsandbytes' optimizers, one process instead of ZeRO/FSDP (train.py
   * `device_fallbacks`), so a missing GPU, bitsandbytes or deepspeed is a warning, not an error.
   */
  cpuFallback?: boolean;
}

export interface EvaluateOptions {
  cpuFallback?: boolean;
}

const MIN_PYTHON: [number, number] = [3, 9];
const MIN_TRANSFORMERS: [number, number] = [4, 46];

function versionAtLeast(v: string | undefined, min: [number, number]): boolean {
  const m = /^(\d+)\.(\d+)/.exec(v ?? "");
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > min[0] || (a === min[0] && b >= min[1]);
}

export async function checkTorchEnvironment(python: string, opts: EnvCheckOptions = {}): Promise<EnvReport> {
  const needs: TorchRequirements = {
    adapters: true, quantize: false, deepspeed: false, zero: null, fsdp: false, gpus: 1, nodes: 1, evals: false, flashAttention: false,
    ...(opts.graph ? planTorchProject(opts.graph).requirements : {}),
    ...opts.requirements,
  };
  let probe: EnvProbe;
  try {
    const r = await execa(python, ["-c", probeSource()], { timeout: opts.timeoutMs ?? 120_000, reject: false, stripFinalNewline: true });
    if (r.timedOut) return failed(python, "T7612", `the environment probe did not finish within ${(opts.timeoutMs ?? 120_000) / 1000} s`, "check that importing torch works: python -c 'import torch'");
    if (r.failed && (r.exitCode === undefined || (r as { code?: string }).code === "ENOENT")) {
      // Not execa's shortMessage: it quotes the whole command line, i.e. the probe's source.
      const code = (r as { code?: string }).code;
      const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "not executable" : (code ?? `killed by ${r.signal ?? "a signal"}`);
      return failed(python, "T7601", `python interpreter \`${python}\` could not be started (${why})`, "install Python 3.9+ or pass its path (e.g. --python /usr/bin/python3)");
    }
    if (r.exitCode !== 0) return failed(python, "T7601", `\`${python}\` exited with ${r.exitCode} running the environment probe: ${lastLine(String(r.stderr))}`, "check the interpreter runs: python3 -c 'print(1)'");
    probe = JSON.parse(String(r.stdout)) as EnvProbe;
  } catch (e) {
    return failed(python, "T7612", `the environment probe's output is not the expected JSON (${(e as Error).message})`, "run `bash launch.sh --check-env` in an exported project to see the raw probe");
  }
  const findings = evaluateProbe(probe, needs, { cpuFallback: opts.cpuFallback === true });
  return { ok: !findings.some((f) => f.severity === "error"), python, probe, findings, summary: summarize(probe) };
}

/** Findings for a probe against what the recipe needs (pure; tested with recorded probes). */
export function evaluateProbe(p: EnvProbe, needs: TorchRequirements, opts: EvaluateOptions = {}): EnvFinding[] {
  const out: EnvFinding[] = [];
  const err = (code: TorchCode, message: string, hint: string): void => void out.push({ code, severity: "error", message, hint });
  const warn = (code: TorchCode, message: string, hint: string): void => void out.push({ code, severity: "warning", message, hint });
  const pkg = (n: string): ProbePackage => p.packages[n] ?? { installed: false };
  if (!versionAtLeast(p.python.version, MIN_PYTHON)) err("T7602", `Python ${p.python.version} at ${p.python.executable} is older than 3.9`, "use Python 3.10–3.12 (create a venv with it and pip install -r requirements.txt)");
  if (!pkg("torch").installed) err("T7603", "torch is not installed", `pip install torch==${PINNED.torch} (CUDA wheels: --extra-index-url https://download.pytorch.org/whl/cu121)`);
  if (!pkg("transformers").installed) err("T7604", "transformers is not installed", `pip install transformers==${PINNED.transformers}`);
  else if (!versionAtLeast(pkg("transformers").version, MIN_TRANSFORMERS)) err("T7604", `transformers ${pkg("transformers").version} is older than 4.46 (needed for accumulation-correct loss normalisation)`, `pip install -U transformers==${PINNED.transformers}`);
  if (needs.adapters && !pkg("peft").installed) err("T7605", "peft is not installed, and the recipe trains a LoRA/QLoRA adapter", `pip install peft==${PINNED.peft}`);
  if (!pkg("accelerate").installed) err("T7606", "accelerate is not installed (HF Trainer and the launch scripts need it)", `pip install accelerate==${PINNED.accelerate}`);
  const devices = p.cuda.devices.length;
  // Without CUDA, a CPU stand-in run degrades QLoRA / ZeRO / FSDP instead of needing them (see EnvCheckOptions).
  const degraded = opts.cpuFallback === true && !p.cuda.available;
  if (needs.gpus > 0 && !p.cuda.available) {
    const needsCuda = needs.quantize ? "4-bit quantization" : needs.deepspeed ? "DeepSpeed" : needs.fsdp ? "FSDP" : null;
    const hard = needsCuda !== null && !degraded;
    const tail = needsCuda === null ? "; training would run on the CPU" : degraded ? `; this stand-in run trains on the CPU without ${needsCuda}` : ` and ${needsCuda}, which need CUDA`;
    (hard ? err : warn)("T7607", `no CUDA device is visible${p.cuda.error ? ` (${p.cuda.error})` : ""}; the recipe asks for ${needs.gpus} GPU(s)${tail}`, "check nvidia-smi and that torch is a CUDA build (torch.version.cuda)");
  } else if (devices > 0 && devices < needs.gpus) {
    warn("T7608", `${devices} GPU(s) visible, the recipe asks for ${needs.gpus} per node; the global batch is kept by accumulating more micro-batches`, "set CUDA_VISIBLE_DEVICES or run on a node with more GPUs to match the recipe's throughput");
  }
  if (degraded) return finishOptional(out, p, needs, warn);
  if (needs.quantize) {
    const b = pkg("bitsandbytes");
    if (!b.installed) err("T7609", "bitsandbytes is not installed, and the recipe quantizes the base model to 4 bits (QLoRA) or uses an 8-bit/paged optimizer", `pip install bitsandbytes==${PINNED.bitsandbytes}`);
    else if (b.import_error) err("T7609", `bitsandbytes ${b.version ?? ""} is installed but does not import: ${b.import_error}`, "bitsandbytes needs a CUDA build of torch and a matching CUDA runtime; reinstall it for this CUDA");
  }
  if (needs.deepspeed) {
    const d = pkg("deepspeed");
    if (!d.installed) err("T7610", `deepspeed is not installed, and the recipe asks for ZeRO-${needs.zero ?? 2}`, `pip install deepspeed==${PINNED.deepspeed} (needs a CUDA toolkit matching torch for its ops)`);
    else if (d.import_error) err("T7610", `deepspeed ${d.version ?? ""} is installed but does not import: ${d.import_error}`, "install a CUDA toolkit matching torch.version.cuda, or reinstall deepspeed");
  }
  return finishOptional(out, p, needs, warn);
}

/** The optional pieces (warnings only): lm_eval for eval tasks, flash-attn when asked for on a GPU. */
function finishOptional(out: EnvFinding[], p: EnvProbe, needs: TorchRequirements, warn: (code: TorchCode, message: string, hint: string) => void): EnvFinding[] {
  if (needs.evals && !p.packages["lm_eval"]?.installed) warn("T7611", "lm_eval is not installed: the recipe's eval tasks will be skipped by the torch programs", `pip install lm_eval==${PINNED.lm_eval}, or let tune's own engine evaluate`);
  if (needs.flashAttention && p.cuda.available && !p.packages["flash_attn"]?.installed) warn("T7613", "flash_attention = true but flash-attn is not installed; PyTorch sdpa attention is used", `pip install flash-attn==${PINNED["flash-attn"]} --no-build-isolation`);
  return out;
}

function summarize(p: EnvProbe): string {
  const v = (n: string): string => (p.packages[n]?.installed ? `${n} ${p.packages[n]!.version ?? "?"}` : `${n} missing`);
  const gpus = p.cuda.devices.length > 0 ? `${p.cuda.devices.length} × ${p.cuda.devices[0]!.name}` : "no CUDA device";
  return `Python ${p.python.version}; ${["torch", "transformers", "peft", "accelerate"].map(v).join(", ")}; ${gpus}`;
}

function lastLine(s: string): string {
  const lines = s.trim().split("\n");
  return lines[lines.length - 1] ?? "";
}

function failed(python: string, code: TorchCode, message: string, hint: string): EnvReport {
  return { ok: false, python, probe: null, findings: [{ code, severity: "error", message, hint }], summary: message };
}
