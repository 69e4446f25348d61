// The check pass: structural checks of every block in every loaded module, then
// the semantic rules on the recipe's own blocks. Returns all checked blocks;
// the diagnostics list carries everything found, at once.
import type { Block } from "../../grammar/ast.js";
import type { Diagnostic, Result } from "../../grammar/diagnostic.js";
import { TOP_LEVEL } from "../schema/blocks.js";
import type { Program } from "../resolve.js";
import { didYouMean } from "../suggest.js";
import { checkBlock, type CheckedBlock } from "./blocks.js";
import { CheckContext } from "./context.js";
import { checkData, checkDataCycles, checkDataset } from "./data.js";
import { checkEval } from "./evals.js";
import { checkAdapter, checkExport, checkHardware, checkJudge, checkModel, checkStage, checkStageCycles, checkTemplate } from "./stages.js";
import { ValueChecker } from "./values.js";
import { checkAllow } from "../allow.js";

export interface CheckedProgram {
  readonly program: Program;
  readonly ctx: CheckContext;
  /** The entry module's top-level blocks, in source order. */
  readonly entry: readonly CheckedBlock[];
}

export function checkProgram(program: Program): Result<CheckedProgram> {
  const diagnostics: Diagnostic[] = [];
  const ctx = new CheckContext(program, diagnostics);
  const vc = new ValueChecker(program, diagnostics);
  // Structural pass over all modules first, so references can find checked targets.
  const perModule = new Map<string, CheckedBlock[]>();
  for (const mod of program.modules.values()) {
    const list: CheckedBlock[] = [];
    const uniques = new Map<string, Block>();
    for (const block of mod.ast.blocks) {
      const spec = TOP_LEVEL[block.type.text];
      if (!spec) {
        if (block.type.text) {
          ctx.report("T2005", "error", `unknown block kind \`${block.type.text}\``, block.type.span, "not a block kind", {
            help: didYouMean(block.type.text, Object.keys(TOP_LEVEL)) ?? `block kinds: ${Object.keys(TOP_LEVEL).join(", ")}`,
          });
        }
        continue;
      }
      const first = uniques.get(spec.kind);
      if (spec.unique && first) {
        ctx.report("T3009", "error", `only one \`${spec.kind}\` block is allowed per file`, block.type.span, "second block", {
          secondary: [{ span: first.type.span, message: "first block" }],
          help: "merge the two blocks into one",
        });
        continue;
      }
      uniques.set(spec.kind, block);
      const checked = checkBlock(block, spec, mod, vc, diagnostics);
      ctx.byNode.set(block, checked);
      list.push(checked);
    }
    perModule.set(mod.path, list);
  }
  for (const [path, blocks] of perModule) semanticRules(ctx, blocks, path === program.entry);
  return { value: { program, ctx, entry: perModule.get(program.entry) ?? [] }, diagnostics };
}

function semanticRules(ctx: CheckContext, blocks: CheckedBlock[], isEntry: boolean): void {
  void isEntry;
  const hardware = blocks.find((b) => b.kind === "hardware");
  const stages: CheckedBlock[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case "recipe":
        checkAllow(ctx, b);
        break;
      case "model":
        checkModel(ctx, b);
        break;
      case "dataset":
        checkDataset(ctx, b);
        break;
      case "data":
        checkData(ctx, b);
        break;
      case "template":
        checkTemplate(ctx, b);
        break;
      case "adapter":
        checkAdapter(ctx, b);
        break;
      case "judge":
        checkJudge(ctx, b);
        break;
      case "stage":
        stages.push(b);
        checkStage(ctx, b, hardware);
        break;
      case "hardware":
        checkHardware(ctx, b);
        break;
      case "export":
        checkExport(ctx, b);
        break;
      case "eval":
        checkEval(ctx, b);
        break;
    }
  }
  checkStageCycles(ctx, stages);
  checkDataCycles(ctx, blocks);
}
