import { beforeAll, describe, expect, test } from "vitest";
import type { Graph } from "../../compiler/graph.js";
import { estimateGraph, type StageEstimate } from "../../compiler/plan/estimate.js";
import { mermaidIds } from "../../compiler/plan/render-diagram.js";
import { renderPlan } from "../../compiler/plan/render.js";
import { formatBytes, formatCount, formatPercent, GiB, grouped, MiB } from "../../compiler/plan/units.js";
import { compileFixture } from "./helpers.js";

// The Alpagasus recipe: score → filter → split, QLoRA r=8 on Llama-2-7B, 8 eval nodes, a report.
let graph: Graph;
let estimates: StageEstimate[];

beforeAll(() => {
  graph = compileFixture("alpagasus-qlora.tune");
  estimates = estimateGraph(graph);
});

describe("text", () => {
  test("lists every node in execution order with its short hash and inputs", () => {
    const text = renderPlan(graph, estimates, "text", { color: false });
    const lines = text.split("\n");
    let at = -1;
    for (const n of graph.nodes) {
      const i = lines.findIndex((l) => l.includes(n.hash.slice(0, 8)) && l.includes(n.id));
      expect(i, n.id).toBeGreaterThan(at);
      at = i;
    }
    expect(text).toContain("← rows=split:alpagasus_9k#3.validation, tokenizer=load_model:base");
  });

  test("a stage table with sizes, schedule, memory against the device and assumptions", () => {
    const text = renderPlan(graph, estimates, "text", { color: false });
    expect(text).toMatch(/parameters\s+6\.74B/);
    expect(text).toMatch(/trainable\s+4\.19M \(0\.062%\)/);
    expect(text).toMatch(/rows\s+unknown/);
    expect(text).toMatch(/batch\s+4 micro × 32 accumulation × 1 device = 128 sequences\/step/);
    expect(text).toMatch(/weights \(frozen, 4-bit\)\s+3\.6 GiB/);
    expect(text).toMatch(/total\s+\d+\.\d GiB/);
    expect(text).toContain("assumptions");
    for (const a of estimates[0]!.assumptions) expect(text).toContain(a);
    expect(text).not.toContain("\x1b[");
  });

  test("fits / exceeds against a device, in color when asked", () => {
    const e = estimates[0]!;
    const small = { ...e, device: { gpu: "l4", bytes: 4 * GiB }, exceeds: true };
    const exceeded = renderPlan(graph, [small], "text", { color: true });
    expect(exceeded).toContain("\x1b[31mexceeds by");
    expect(exceeded).toMatch(/of 4\.0 GiB \(l4\)/);
    const fits = renderPlan(graph, [{ ...e, device: { gpu: "a100_80gb", bytes: 80 * GiB }, exceeds: false }], "text", { color: false });
    expect(fits).toMatch(/of 80\.0 GiB \(a100_80gb\): fits, \d+\.\d GiB free/);
  });
});

describe("json", () => {
  test("{ graph, estimates }, stable across runs", () => {
    const a = renderPlan(graph, estimates, "json", { color: false });
    expect(renderPlan(graph, estimateGraph(graph), "json", { color: true })).toBe(a);
    const parsed = JSON.parse(a) as { graph: Graph; estimates: StageEstimate[] };
    expect(parsed.graph.nodes).toHaveLength(graph.nodes.length);
    expect(parsed.estimates[0]!.parameters).toBe(6_738_415_616);
    expect(parsed.estimates[0]!.trainable).toBe(4_194_304);
    expect(Object.keys(parsed)).toEqual(["graph", "estimates"]);
    expect(Object.keys(parsed.estimates[0]!.memory!)).toEqual(["weights", "adapter", "gradients", "optimizer", "activations", "reference", "overhead", "total", "offloaded"]);
  });
});

describe("dot", () => {
  test("a well-formed digraph: every node declared, every edge between declared nodes, ports labelled", () => {
    const dot = renderPlan(graph, estimates, "dot", { color: false });
    expect(dot.startsWith('digraph "alpagasus" {\n')).toBe(true);
    expect(dot.trimEnd().endsWith("}")).toBe(true);
    const declared = new Set([...dot.matchAll(/^ {2}"([^"]+)" \[label=/gm)].map((m) => m[1]));
    expect([...declared].sort()).toEqual(graph.nodes.map((n) => n.id).sort());
    const edges = [...dot.matchAll(/^ {2}"([^"]+)" -> "([^"]+)"( \[label="([^"]+)"\])?;$/gm)];
    expect(edges).toHaveLength(graph.nodes.reduce((s, n) => s + Object.keys(n.inputs).length, 0));
    for (const e of edges) expect(declared.has(e[1]) && declared.has(e[2])).toBe(true);
    // only non-default ports are labelled: split's second output (`train` is its first)
    expect(edges.filter((e) => e[4]).map((e) => `${e[2]}:${e[4]}`)).toEqual(["tokenize:sft/validation:validation"]);
    expect(dot).toMatch(/"train:sft" \[label="sft\\ntrain\\n≈ \d+\.\d GiB\/device", shape=box, penwidth=2\]/);
    // every line is a statement
    for (const line of dot.split("\n").slice(1, -2)) expect(line).toMatch(/;$/);
  });

  test("quotes and backslashes in names are escaped", () => {
    const g: Graph = { ...graph, recipe: 'a"b\\c' };
    expect(renderPlan(g, [], "dot", { color: false }).split("\n")[0]).toBe('digraph "a\\"b\\\\c" {');
  });
});

describe("mermaid", () => {
  test("flowchart TD with safe unique ids, escaped labels and port-labelled edges", () => {
    const mmd = renderPlan(graph, estimates, "mermaid", { color: false });
    const lines = mmd.trimEnd().split("\n");
    expect(lines[0]).toBe("flowchart TD");
    const ids = mermaidIds(graph);
    expect(new Set(ids.values()).size).toBe(graph.nodes.length);
    for (const id of ids.values()) expect(id).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
    const nodeLines = lines.filter((l) => /^ {2}\w+(\[|\[\(|\[\[)"/.test(l));
    expect(nodeLines).toHaveLength(graph.nodes.length);
    for (const l of nodeLines) {
      const label = l.slice(l.indexOf('"') + 1, l.lastIndexOf('"'));
      expect(label).not.toMatch(/["#](?!\d+;|quot;|lt;|gt;)/);
    }
    expect(mmd).toContain('score_alpagasus_9k_1["alpagasus_9k#35;1<br/>score"]');
    const edges = lines.filter((l) => l.includes("-->"));
    expect(edges).toHaveLength(graph.nodes.reduce((s, n) => s + Object.keys(n.inputs).length, 0));
    const known = new Set(ids.values());
    for (const e of edges) {
      const m = /^ {2}(\w+) -->(\|(\w+)\|)? (\w+)$/.exec(e);
      expect(m, e).not.toBeNull();
      expect(known.has(m![1]!) && known.has(m![4]!)).toBe(true);
    }
    expect(mmd).toContain("split_alpagasus_9k_3 -->|validation| tokenize_sft_validation");
  });

  test("ids that sanitise alike stay distinct; over-budget stages get a class", () => {
    const n = graph.nodes[0]!;
    const g: Graph = { ...graph, nodes: [{ ...n, id: "load_model:a.b" }, { ...n, id: "load_model:a_b" }] };
    expect([...mermaidIds(g).values()]).toEqual(["load_model_a_b", "load_model_a_b_2"]);
    const over = renderPlan(graph, [{ ...estimates[0]!, exceeds: true }], "mermaid", { color: false });
    expect(over).toContain("class train_sft exceeds");
  });
});

describe("number formats", () => {
  test("params, bytes, percentages, grouping", () => {
    expect(formatCount(6_738_415_616)).toBe("6.74B");
    expect(formatCount(4_194_304)).toBe("4.19M");
    expect(formatCount(512)).toBe("512");
    expect(formatBytes(12.55 * GiB)).toBe("12.6 GiB");
    expect(formatBytes(16 * MiB)).toBe("16 MiB");
    expect(formatPercent(4_194_304 / 6_738_415_616)).toBe("0.062%");
    expect(formatPercent(0.5)).toBe("50%");
    expect(grouped(68_976_648_192)).toBe("68,976,648,192");
  });
});
