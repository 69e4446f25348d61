// selectFiles: which repo files hold a configuration's split, for the layouts hub datasets use in practice
// (file lists modelled on real repos: tatsu-lab/alpaca, Open-Orca/OpenOrca, ultrafeedback_binarized, the
// refs/convert/parquet branch).

import { describe, expect, it } from "vitest";
import { cardConfigs, globToRegExp, incompleteShards, selectFiles } from "../../runtime/data/hub/index.js";

const pick = (paths: string[], split = "train", config?: string, readme: string | null = null) => selectFiles(paths, readme, { id: "o/n", split, config });

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  throw new Error("expected an error");
}

describe("common layouts", () => {
  it("data/<split>-*.parquet (push_to_hub)", () => {
    const paths = ["README.md", ".gitattributes", "data/train-00000-of-00001-a09b74b3ef9c3b56.parquet", "data/test-00000-of-00001-1b2c.parquet"];
    expect(pick(paths)).toEqual({ files: ["data/train-00000-of-00001-a09b74b3ef9c3b56.parquet"], format: "parquet" });
    expect(pick(paths, "test").files).toEqual(["data/test-00000-of-00001-1b2c.parquet"]);
  });

  it("split names that are not train/validation/test (train_prefs)", () => {
    const paths = ["data/train_prefs-00000-of-00001.parquet", "data/test_prefs-00000-of-00001.parquet", "data/train_sft-00000-of-00001.parquet"];
    expect(pick(paths, "train_prefs").files).toEqual(["data/train_prefs-00000-of-00001.parquet"]);
  });

  it("files whose name contains the split as a word, and the validation aliases", () => {
    const paths = ["alpaca_train.jsonl", "alpaca_dev.jsonl", "pretrain_notes.csv.txt"];
    expect(pick(paths)).toEqual({ files: ["alpaca_train.jsonl"], format: "jsonl" });
    expect(pick(paths, "validation").files).toEqual(["alpaca_dev.jsonl"]);
    expect(codeOf(() => pick(paths, "test"))).toBe("T7204");
  });

  it("no split word anywhere: every file is the train split (Open-Orca style)", () => {
    const paths = ["1M-GPT4-Augmented.parquet", "3_5M-GPT3_5-Augmented.parquet", "pretrain.jsonl"];
    expect(pick(paths)).toEqual({ files: ["1M-GPT4-Augmented.parquet", "3_5M-GPT3_5-Augmented.parquet"], format: "parquet" });
    expect(codeOf(() => pick(paths, "test"))).toBe("T7204");
  });

  it("configuration folders: <config>/… and data/<config>/…; none named among several is T7205", () => {
    const paths = ["en/train.jsonl", "en/test.jsonl", "fr/train.jsonl"];
    expect(pick(paths, "train", "fr").files).toEqual(["fr/train.jsonl"]);
    expect(codeOf(() => pick(paths))).toBe("T7205");
    expect(codeOf(() => pick(paths, "train", "de"))).toBe("T7204");
    expect(pick(["data/en/train.jsonl", "data/fr/train.jsonl"], "train", "en").files).toEqual(["data/en/train.jsonl"]);
  });

  it("refs/convert/parquet: <config>/<split>/NNNN.parquet and the older partial-<split> folders", () => {
    const paths = ["default/train/0000.parquet", "default/train/0001.parquet", "default/test/0000.parquet"];
    expect(pick(paths).files).toEqual(["default/train/0000.parquet", "default/train/0001.parquet"]);
    expect(pick(paths, "train", "default").files).toHaveLength(2);
    expect(pick(["plain_text/partial-train/0000.parquet"], "train", "plain_text").files).toEqual(["plain_text/partial-train/0000.parquet"]);
  });

  it("in a local snapshot (maybe partial), a lone configuration folder is not assumed to be the only one", () => {
    expect(codeOf(() => selectFiles(["fr/train.jsonl"], null, { id: "o/n", split: "train", partial: true }))).toBe("T7205");
    expect(selectFiles(["fr/train.jsonl"], null, { id: "o/n", split: "train" }).files).toEqual(["fr/train.jsonl"]);
    expect(selectFiles(["default/train/0000.parquet"], null, { id: "o/n", split: "train", partial: true }).files).toEqual(["default/train/0000.parquet"]);
  });

  it("split folders at the top are splits, not configurations", () => {
    expect(pick(["train/a.jsonl", "test/a.jsonl"]).files).toEqual(["train/a.jsonl"]);
  });

  it("one format per split, Parquet first; shards in natural order", () => {
    expect(pick(["train.json", "train.parquet"])).toEqual({ files: ["train.parquet"], format: "parquet" });
    expect(pick(["train-10.jsonl", "train-2.jsonl", "train-1.jsonl"]).files).toEqual(["train-1.jsonl", "train-2.jsonl", "train-10.jsonl"]);
  });

  it("a repo without readable data files is T7204", () => {
    expect(codeOf(() => pick(["README.md", "dataset.py", "data.tar.gz"]))).toBe("T7204");
  });
});

describe("the dataset card's configs", () => {
  const card = `---
dataset_info:
  features: []
configs:
- config_name: default
  data_files:
  - split: train_prefs
    path: data/train_prefs-*
  - split: test_prefs
    path: data/test_prefs-*
- config_name: raw
  data_dir: raw
  data_files:
    train: "*.jsonl"
- config_name: flat
  data_files: flat.arrow
---
text`;

  it("reads the list, mapping and string forms of data_files, and data_dir", () => {
    const cs = cardConfigs(card);
    expect(cs.map((c) => [c.name, Object.fromEntries(c.splits)])).toEqual([
      ["default", { train_prefs: ["data/train_prefs-*"], test_prefs: ["data/test_prefs-*"] }],
      ["raw", { train: ["raw/*.jsonl"] }],
      ["flat", { train: ["flat.arrow"] }],
    ]);
    expect(cardConfigs("no front matter")).toEqual([]);
  });

  it("the card decides over the layout; the default config applies when none is named", () => {
    const paths = ["data/train_prefs-00000-of-00001.parquet", "data/test_prefs-00000-of-00001.parquet", "raw/a.jsonl", "raw/sub/b.jsonl", "flat.arrow"];
    expect(pick(paths, "train_prefs", undefined, card).files).toEqual(["data/train_prefs-00000-of-00001.parquet"]);
    expect(pick(paths, "train", "raw", card)).toEqual({ files: ["raw/a.jsonl"], format: "jsonl" });
    expect(codeOf(() => pick(paths, "train", undefined, card))).toBe("T7204"); // default has no `train`
    expect(codeOf(() => pick(paths, "train", "flat", card))).toBe("T7204"); // .arrow is not readable
    expect(codeOf(() => pick(paths, "train", "nope", card))).toBe("T7204");
  });

  it("several configs, none default, none named: T7205", () => {
    const two = "---\nconfigs:\n- config_name: a\n  data_files: a.jsonl\n- config_name: b\n  data_files: b.jsonl\n---\n";
    expect(codeOf(() => pick(["a.jsonl", "b.jsonl"], "train", undefined, two))).toBe("T7205");
    expect(pick(["a.jsonl", "b.jsonl"], "train", "b", two).files).toEqual(["b.jsonl"]);
  });
});

describe("globs and shards", () => {
  it("`**` crosses folders, `*` does not", () => {
    expect(globToRegExp("data/train-*").test("data/train-0.parquet")).toBe(true);
    expect(globToRegExp("data/train-*").test("data/x/train-0.parquet")).toBe(false);
    expect(globToRegExp("data/**/train-*").test("data/x/y/train-0.parquet")).toBe(true);
    expect(globToRegExp("data/**/train-*").test("data/train-0.parquet")).toBe(true);
    expect(globToRegExp("a.b?").test("a.bc")).toBe(true);
    expect(globToRegExp("a.b?").test("axbc")).toBe(false);
  });

  it("reports a shard set with gaps", () => {
    expect(incompleteShards(["data/train-00000-of-00002-aa.parquet", "data/train-00001-of-00002-bb.parquet"])).toBeNull();
    expect(incompleteShards(["data/train-00000-of-00003.parquet", "data/train-00002-of-00003.parquet"])).toBe("data/train-*-of-00003: 2 of 3 shards");
    expect(incompleteShards(["train.jsonl"])).toBeNull();
  });
});
