// SARIF 2.1.0 output. The official JSON schema is not available offline, so
// `checkSarif` below re-states, by hand, the parts of it that our output
// touches: for each object, its required properties, the properties the schema
// allows (it sets `additionalProperties: false` on all of these), and the
// types, enums and minimums of the values we emit. Transcribed from
// sarif-schema-2.1.0.json (sarifLog, run, tool, toolComponent,
// reportingDescriptor, multiformatMessageString, result, message, location,
// physicalLocation, artifactLocation, region).
import { describe, expect, test } from "vitest";
import { diag } from "../../grammar/diagnostic.js";
import { artifactUri } from "../../cli/render/sarif.js";
import { ALPAGASUS, ALPAGASUS_FILE, find, render, sourcesOf, unknownOptimizer } from "./helpers.js";

// ---- a hand-written subset of the SARIF 2.1.0 schema

type Json = unknown;
type Check = (value: Json, path: string, errors: string[]) => void;

const isObject = (v: Json): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);

function object(required: string[], props: Record<string, Check>): Check {
  return (v, path, errors) => {
    if (!isObject(v)) return void errors.push(`${path}: not an object`);
    for (const key of required) if (!(key in v)) errors.push(`${path}: missing required "${key}"`);
    for (const [key, value] of Object.entries(v)) {
      const check = props[key];
      if (!check) errors.push(`${path}: property "${key}" is not allowed`);
      else check(value, `${path}.${key}`, errors);
    }
  };
}

const string: Check = (v, p, e) => void (typeof v !== "string" && e.push(`${p}: not a string`));
const integer = (min: number): Check => (v, p, e) =>
  void ((!Number.isInteger(v) || (v as number) < min) && e.push(`${p}: not an integer >= ${min}`));
const oneOf = (...values: string[]): Check => (v, p, e) => void (!values.includes(v as string) && e.push(`${p}: not one of ${values}`));
const array = (item: Check): Check => (v, p, e) => {
  if (!Array.isArray(v)) return void e.push(`${p}: not an array`);
  v.forEach((x, i) => item(x, `${p}[${i}]`, e));
};
const uriReference: Check = (v, p, e) => {
  string(v, p, e);
  if (typeof v === "string" && /[\s\\%](?![0-9A-F]{2})|^[a-z]:/i.test(v)) e.push(`${p}: not a URI reference: ${v}`);
};

const message = object(["text"], { text: string, markdown: string, id: string, arguments: array(string) });
const multiformatMessageString = object(["text"], { text: string, markdown: string });
const region = object([], {
  startLine: integer(1),
  startColumn: integer(1),
  endLine: integer(1),
  endColumn: integer(1),
  charOffset: integer(-1),
  charLength: integer(0),
  byteOffset: integer(-1),
  byteLength: integer(0),
  message,
});
const artifactLocation = object([], { uri: uriReference, uriBaseId: string, index: integer(-1), description: message });
const physicalLocation = object([], { artifactLocation, region, contextRegion: region });
const location = object([], { id: integer(-1), physicalLocation, message });
const result = object(["message"], {
  ruleId: string,
  ruleIndex: integer(-1),
  level: oneOf("none", "note", "warning", "error"),
  kind: oneOf("notApplicable", "pass", "fail", "review", "open", "informational"),
  message,
  locations: array(location),
  relatedLocations: array(location),
});
const reportingDescriptor = object(["id"], {
  id: string,
  name: string,
  shortDescription: multiformatMessageString,
  fullDescription: multiformatMessageString,
  help: multiformatMessageString,
  helpUri: string,
});
const toolComponent = object(["name"], { name: string, version: string, semanticVersion: string, informationUri: string, rules: array(reportingDescriptor) });
const tool = object(["driver"], { driver: toolComponent });
const run = object(["tool"], { tool, columnKind: oneOf("utf16CodeUnits", "unicodeCodePoints"), results: array(result) });
const sarifLog = object(["version", "runs"], { $schema: string, version: oneOf("2.1.0"), runs: array(run) });

function checkSarif(log: Json): string[] {
  const errors: string[] = [];
  sarifLog(log, "$", errors);
  // Cross-references the schema cannot express: ruleIndex points at the rule with the same id.
  const r = (log as { runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; ruleIndex: number }[] }[] }).runs[0];
  for (const res of r.results) {
    if (r.tool.driver.rules[res.ruleIndex]?.id !== res.ruleId) errors.push(`ruleIndex ${res.ruleIndex} does not match ${res.ruleId}`);
  }
  return errors;
}

// ---- tests

const HELP: Record<string, { title: string; explanation: string }> = {
  T2003: { title: "Unknown optimizer", explanation: "The optimizer is not in the standard library." },
};

describe("sarif format", () => {
  test("golden: one error with help, one warning with a secondary label, one info", () => {
    const f = ALPAGASUS_FILE;
    const warn = diag("T3001", "warning", "`epochs` is set twice", find(f, ALPAGASUS, "epochs"), "", {
      secondary: [{ span: find(f, ALPAGASUS, "train"), message: "in this block" }],
    });
    const info = diag("T5001", "info", "dataset cached", find(f, ALPAGASUS, "alpaca"), "cached");
    const log = JSON.parse(render([unknownOptimizer(), warn, info], sourcesOf({ [f]: ALPAGASUS }), "sarif", { rulesHelp: (c) => HELP[c] }));
    expect(log).toEqual({
      $schema: "https://json.schemastore.org/sarif-2.1.0.json",
      version: "2.1.0",
      runs: [
        {
          tool: {
            driver: {
              name: "tune",
              version: "0.1.0",
              rules: [
                {
                  id: "T2003",
                  shortDescription: { text: "Unknown optimizer" },
                  fullDescription: { text: "The optimizer is not in the standard library." },
                  help: { text: "The optimizer is not in the standard library." },
                },
                { id: "T3001" },
                { id: "T5001" },
              ],
            },
          },
          columnKind: "utf16CodeUnits",
          results: [
            {
              ruleId: "T2003",
              ruleIndex: 0,
              level: "error",
              message: { text: "unknown optimizer `adamw8`\nhelp: did you mean `adamw`?" },
              locations: [
                {
                  physicalLocation: {
                    artifactLocation: { uri: "recipes/alpagasus.tune" },
                    region: { startLine: 14, startColumn: 15, endLine: 14, endColumn: 21 },
                  },
                  message: { text: "not a known optimizer" },
                },
              ],
            },
            {
              ruleId: "T3001",
              ruleIndex: 1,
              level: "warning",
              message: { text: "`epochs` is set twice" },
              locations: [
                {
                  physicalLocation: {
                    artifactLocation: { uri: "recipes/alpagasus.tune" },
                    region: { startLine: 15, startColumn: 3, endLine: 15, endColumn: 9 },
                  },
                },
              ],
              relatedLocations: [
                {
                  id: 1,
                  physicalLocation: {
                    artifactLocation: { uri: "recipes/alpagasus.tune" },
                    region: { startLine: 13, startColumn: 1, endLine: 13, endColumn: 6 },
                  },
                  message: { text: "in this block" },
                },
              ],
            },
            {
              ruleId: "T5001",
              ruleIndex: 2,
              level: "note",
              message: { text: "dataset cached" },
              locations: [
                {
                  physicalLocation: {
                    artifactLocation: { uri: "recipes/alpagasus.tune" },
                    region: { startLine: 8, startColumn: 6, endLine: 8, endColumn: 12 },
                  },
                  message: { text: "cached" },
                },
              ],
            },
          ],
        },
      ],
    });
    expect(checkSarif(log)).toEqual([]);
  });

  test("no diagnostics is still a valid log with one empty run", () => {
    const log = JSON.parse(render([], sourcesOf({}), "sarif"));
    expect(log.runs[0].results).toEqual([]);
    expect(log.runs[0].tool.driver.rules).toEqual([]);
    expect(checkSarif(log)).toEqual([]);
  });

  test("multi-line, EOF, CRLF, astral, unknown-source and label-less diagnostics all validate", () => {
    const crlf = "a = 1\r\nb = 😀x\r\n";
    const diags = [
      diag("T1001", "error", "spans lines", { file: "c", start: 0, end: crlf.length }, ""),
      diag("T1002", "error", "at EOF", { file: "c", start: crlf.length, end: crlf.length }, "here"),
      diag("T1003", "error", "after emoji", find("c", crlf, "x"), ""),
      diag("T5002", "warning", "bad row", { file: "data/my rows#1.jsonl", start: 40, end: 52 }, ""),
      { ...diag("T4001", "info", "no seed", { file: "c", start: 0, end: 0 }), labels: [] },
    ];
    const log = JSON.parse(render(diags, sourcesOf({ c: crlf }), "sarif"));
    expect(checkSarif(log)).toEqual([]);
    const regions = log.runs[0].results.map((r: { locations: { physicalLocation: { region: unknown } }[] }) => r.locations[0]?.physicalLocation.region);
    expect(regions).toEqual([
      { startLine: 1, startColumn: 1, endLine: 3, endColumn: 1 },
      { startLine: 3, startColumn: 1, endLine: 3, endColumn: 1 },
      { startLine: 2, startColumn: 7, endLine: 2, endColumn: 8 }, // the emoji is two UTF-16 units
      { charOffset: 40, charLength: 12 }, // text unknown: offsets only
      undefined, // no labels: no locations
    ]);
    expect(log.runs[0].results[3].locations[0].physicalLocation.artifactLocation.uri).toBe("data/my%20rows%231.jsonl");
    expect(log.runs[0].results[4].locations).toEqual([]);
  });

  test("the hand-written schema check does catch mistakes", () => {
    const log = JSON.parse(render([unknownOptimizer()], sourcesOf({ [ALPAGASUS_FILE]: ALPAGASUS }), "sarif"));
    log.runs[0].results[0].level = "info";
    log.runs[0].results[0].locations[0].physicalLocation.region.startColumn = 0;
    delete log.runs[0].tool.driver.name;
    log.runs[0].results[0].severity = "error";
    expect(checkSarif(log)).toEqual([
      "$.runs[0].tool.driver: missing required \"name\"",
      "$.runs[0].results[0].level: not one of none,note,warning,error",
      "$.runs[0].results[0].locations[0].physicalLocation.region.startColumn: not an integer >= 1",
      "$.runs[0].results[0]: property \"severity\" is not allowed",
    ]);
  });

  test("artifact URIs: relative with forward slashes; absolute paths become file URIs", () => {
    expect(artifactUri("recipes/a.tune")).toBe("recipes/a.tune");
    expect(artifactUri("./recipes/a.tune")).toBe("recipes/a.tune");
    expect(artifactUri("recipes\\sub dir\\a.tune")).toBe("recipes/sub%20dir/a.tune");
    expect(artifactUri("/home/me/a.tune")).toBe("file:///home/me/a.tune");
    expect(artifactUri("C:\\work\\a b.tune")).toBe("file:///C:/work/a%20b.tune");
    expect(artifactUri("odd:name%.tune")).toBe("odd%3Aname%25.tune");
  });
});
