// The report as Markdown, HTML and through the report op into a real run directory: table shapes, the Δ
// columns, escaping of every name that comes from results, one SVG bar per Δ coloured by better/worse (not by
// sign), whiskers only where both stderrs are known.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildReport, type ResultData } from "../../runtime/eval/report-model.js";
import { reportMarkdown } from "../../runtime/eval/report-md.js";
import { deltaChartSvg, escapeHtml, reportHtml, VERDICT_COLOR } from "../../runtime/eval/report-html.js";
import { reportOp } from "../../runtime/exec/ops/report.js";
import type { ExecEnv, Value } from "../../runtime/exec/types.js";
import type { GraphNode } from "../../compiler/graph.js";
import { evalResult } from "./results.js";

const EVIL = `<script>alert("x")</script> & 'q'`;

function sample() {
  const results: ResultData[] = [
    evalResult("e:arc@base", "arc_easy", "base", [{ metric: "acc", value: 0.28, stderr: 0.032 }, { metric: "acc_norm", value: 0.3, stderr: 0.0324 }]),
    evalResult("e:held@base", "alpaca_heldout", "base", [{ metric: "acc", value: 0.4, stderr: 0.035 }, { metric: "perplexity", value: 90, stderr: null, higherIsBetter: false }]),
    evalResult("e:evil@base", EVIL, "base", [{ metric: "acc", value: 0.5, stderr: 0.05 }]),
    { node: "g:len@base", task: "response_length", model: "base", metric: "response_length", value: 300, n: 10 },
    evalResult("e:arc@sft", "arc_easy", "sft", [{ metric: "acc", value: 0.27, stderr: 0.0314 }, { metric: "acc_norm", value: 0.31, stderr: 0.0327 }]),
    evalResult("e:held@sft", "alpaca_heldout", "sft", [{ metric: "acc", value: 0.5, stderr: 0.0354 }, { metric: "perplexity", value: 70, stderr: 2, higherIsBetter: false }]),
    evalResult("e:evil@sft", EVIL, "sft", [{ metric: "acc", value: 0.45, stderr: 0.05 }]),
    { node: "g:len@sft", task: "response_length", model: "sft", metric: "response_length", value: 250, n: 10 },
  ];
  return buildReport({ recipe: "demo <r&d>", results, expected: results.map((r) => String(r.node)), trained: new Set(["sft"]), smoke: false });
}

/** The cells of a Markdown table row (escaped pipes stay inside their cell). */
const cells = (line: string): string[] => line.slice(2, -2).split(/(?<!\\) \| /);

describe("Markdown", () => {
  const rep = sample();
  const md = reportMarkdown(rep);
  const lines = md.split("\n");

  it("has a summary with one column per model and one Δ column per fine-tuned model", () => {
    const at = lines.indexOf("| Task | base | sft | Δ sft − base |");
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe("|---|---:|---:|---:|");
    const body = lines.slice(at + 2, lines.indexOf("", at));
    // 4 tasks + the average of the 3 ↑ tasks.
    expect(body).toHaveLength(5);
    for (const l of body) expect(cells(l)).toHaveLength(4);
    expect(body[0]).toBe("| arc_easy (acc) | 0.2800 ± 0.0320 (n=100) | 0.2700 ± 0.0314 (n=100) | -0.0100 ± 0.0448 ↑ worse |");
    expect(body[3]).toBe("| response_length (response_length) | 300.0000 (n=10) | 250.0000 (n=10) | -50.0000 · neutral |");
    expect(body[4]).toMatch(/^\| Average of 3 tasks \(acc\) \| /);
  });

  it("has the lm-eval-style table of every metric with its direction and the Δ", () => {
    const at = lines.indexOf("| Task | Version | Filter | n-shot | Metric | base | ± | sft | ± | Δ sft |");
    expect(at).toBeGreaterThan(0);
    const body = lines.slice(at + 2, lines.indexOf("", at));
    expect(body).toHaveLength(rep.detail.length);
    for (const l of body) expect(cells(l)).toHaveLength(10);
    expect(body).toContain("| alpaca_heldout | 1 | none | 0 | perplexity ↓ | 90.0000 | N/A | 70.0000 | 2.0000 | -20.0000 ↓ better |");
  });

  it("has each model's own table as lm-eval prints it", () => {
    const at = lines.indexOf("## sft");
    expect(lines[at + 2]).toBe("| Task | Version | Filter | n-shot | Metric | Value | ± Stderr |");
    expect(lines[at + 4]).toBe("| arc_easy | 1 | none | 0 | acc ↑ | 0.2700 | 0.0314 |");
  });
});

describe("HTML", () => {
  const rep = sample();
  const html = reportHtml(rep);

  it("escapes every name that comes from results", () => {
    expect(html).not.toContain("<script");
    expect(html).toContain(escapeHtml(EVIL));
    expect(escapeHtml(EVIL)).toBe("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;");
    expect(html).toContain("<title>demo &lt;r&amp;d&gt;: evaluation</title>");
  });

  it("is self-contained: no scripts, external links, images or stylesheets", () => {
    expect(html).not.toMatch(/<script|<link|<img|src=|href=|@import|url\(/i);
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
  });

  it("draws one bar per Δ of the summary, coloured by better/worse in the metric's direction", () => {
    const svg = deltaChartSvg(rep);
    const deltas = [...rep.summary, rep.average!].flatMap((r) => r.deltas);
    const bars = [...svg.matchAll(/<g class="bar" data-verdict="(\w+)">.*?<rect [^>]*fill="(#[0-9a-f]+)"/g)];
    expect(bars).toHaveLength(deltas.length);
    // Panels group bars by axis (bounded metrics, then each other metric), so compare as multisets.
    expect(bars.map((b) => b[1]).sort()).toEqual(deltas.map((d) => d.verdict).sort());
    for (const b of bars) expect(b[2]).toBe(VERDICT_COLOR[b[1] as keyof typeof VERDICT_COLOR]);
    expect(html).toContain(svg);
  });

  it("colours a falling perplexity as better although its Δ is negative", () => {
    const rows = [{ ...rep.detail.find((r) => r.metric === "perplexity")! }];
    const svg = deltaChartSvg({ ...rep, summary: rows, average: null });
    expect(svg).toContain(`data-verdict="better"`);
    expect(svg).toContain(`fill="${VERDICT_COLOR.better}"`);
    // Only one of the two stderrs is known: no whisker.
    expect(svg).not.toContain('class="whisker"');
  });

  it("draws a whisker of ± the combined stderr where both are known", () => {
    const svg = deltaChartSvg(rep);
    const known = [...rep.summary, rep.average!].flatMap((r) => r.deltas).filter((d) => d.stderr !== null).length;
    expect([...svg.matchAll(/class="whisker"/g)]).toHaveLength(known);
  });
});

describe("the report op", () => {
  it("writes report.md, report.json and report.html into the run directory, and prints the Markdown", async () => {
    const runDir = mkdtempSync(join(tmpdir(), "tune-report-"));
    const logged: string[] = [];
    const graph = {
      recipe: "quickstart",
      nodes: [
        { id: "load_model:tiny", op: "load_model", params: {}, inputs: {} },
        { id: "train:sft", op: "train", params: {}, inputs: { policy: { node: "load_model:tiny", port: "model" } } },
        { id: "e@tiny", op: "eval_task", params: { model: "tiny" }, inputs: { model: { node: "load_model:tiny", port: "model" } } },
        { id: "e@sft", op: "eval_task", params: { model: "sft" }, inputs: { model: { node: "train:sft", port: "model" } } },
      ],
    };
    const env = { graph, runDir, smoke: null, log: (l: string) => logged.push(l) } as unknown as ExecEnv;
    const node = { id: "report:q", params: { formats: ["md", "json", "html"] }, inputs: { r0: { node: "e@sft", port: "result" }, r1: { node: "e@tiny", port: "result" }, r2: { node: "e@gone", port: "result" } } } as unknown as GraphNode;
    // The fine-tuned model's result arrives first: the base is still the model that is not a stage output.
    const value = (d: ResultData): Value => ({ kind: "result", data: d as Record<string, unknown>, files: [] });
    const out = await reportOp(node, { r0: value(evalResult("e@sft", "arc_easy", "sft", [{ metric: "acc", value: 0.3, stderr: 0.03 }])), r1: value(evalResult("e@tiny", "arc_easy", "tiny", [{ metric: "acc", value: 0.25, stderr: 0.04 }])) }, env);
    const md = readFileSync(join(runDir, "report.md"), "utf8");
    expect(md).toContain("| Task | sft | tiny | Δ sft − tiny |");
    expect(md).toContain("| arc_easy (acc) | 0.3000 ± 0.0300 (n=100) | 0.2500 ± 0.0400 (n=100) | +0.0500 ± 0.0500 ↑ better |");
    expect(md).toContain("Not run (see run.log for why): e@gone.");
    expect(logged.join("\n")).toContain(md);
    const json = JSON.parse(readFileSync(join(runDir, "report.json"), "utf8"));
    expect(json.report.base).toBe("tiny");
    expect(json.rows["arc_easy (acc)"].sft).toEqual({ value: 0.3, stderr: 0.03, n: 100 });
    expect(json.report.summary[0].deltas[0].value).toBeCloseTo(0.05, 12);
    const html = readFileSync(join(runDir, "report.html"), "utf8");
    expect([...html.matchAll(/<g class="bar"/g)]).toHaveLength(1);
    expect((out["report"] as { files: readonly string[] }).files.map((f) => f.slice(runDir.length + 1))).toEqual(["report.md", "report.json", "report.html"]);
  });
});
