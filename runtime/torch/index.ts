// Public surface of the PyTorch executor: export a project, check a Python environment, launch a project.
//
// Why this exists: the CLI (cli/torch-commands.ts) and the run engine depend on these entry points only.

export { exportTorchProject, MANIFEST_FILE } from "./export.js";
export type { TorchDataFiles, TorchExportOptions, TorchExportResult } from "./export.js";
export { checkTorchEnvironment, evaluateProbe } from "./env-check.js";
export type { EnvCheckOptions, EnvFinding, EnvProbe, EnvReport, EvaluateOptions } from "./env-check.js";
export { launchTorchProject, parseProgressLine, METRIC_PREFIX, EVENT_PREFIX } from "./launch.js";
export type { LaunchOptions, LaunchResult, ProgressRecord } from "./launch.js";
export { planTorchProject, slugOf } from "./plan.js";
export type { Lineage, Reference, TorchPlan, TorchRequirements, PlannedStep, HardwareParams } from "./plan.js";
export { accelerateConfig, deepspeedConfig, requirementsTxt, PINNED } from "./configs.js";
export { TORCH_CODES, TorchError } from "./errors.js";
// runTorchGraph (run.ts) is not re-exported: it loads the in-process data executor; import "./run.js" lazily.
export type { TorchCode } from "./errors.js";
