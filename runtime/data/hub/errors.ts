// Errors of hub dataset resolution: T72xx.
//
// Why this exists: a hub dataset fails far from the recipe (a token that is refused, a revision that moved, a
// laptop on a plane), and each of those needs its own fix. Every failure here carries a code, a message that
// names the dataset and stands on its own, and a hint that says how to provide the data — like a compiler error.
// The scheduler records any thrown error's `code` and `hint` (runtime/exec/scheduler.ts), so no wrapping is needed.
// T71xx belong to the in-process executor, T76xx to the torch executor; T72xx are free and owned by this folder.

export const HUB_CODES = {
  T7201: "hub dataset not available offline",
  T7202: "hub refused access (authentication or gated dataset)",
  T7203: "hub dataset, revision or file not found",
  T7204: "no data files for the configuration and split",
  T7205: "several configurations and none chosen",
  T7206: "downloaded or cached file fails verification",
  T7207: "hub request failed",
  T7208: "invalid hub dataset id or file path",
} as const;

export type HubCode = keyof typeof HUB_CODES;

/** Explanations for `tune explain` (joined with the titles in HUB_CATALOGUE). */
const EXPLANATIONS: Readonly<Record<HubCode, string>> = {
  T7201:
    "The dataset is not in the local Hugging Face cache and the Hub was not asked (HF_HUB_OFFLINE=1) or could not be reached. Run once with network access, pre-populate the cache with `huggingface-cli download --repo-type dataset ORG/NAME`, or point the dataset at a local file with `path = \"…\"`.",
  T7202:
    "The Hub answered 401 or 403. The dataset is private or gated: accept its conditions on its Hub page, then set HF_TOKEN (or log in with `huggingface-cli login`) to a token that may read it.",
  T7203:
    "The Hub answered 404: the dataset id, the revision (branch, tag or commit) or a file listed a moment earlier does not exist. Check the spelling of `hub = \"…\"` and `revision`.",
  T7204:
    "The dataset's files at the resolved commit hold nothing for the requested configuration and split. tune reads the `configs:` section of the dataset card (README.md) when there is one, and otherwise the common layouts (`<config>/<split>-*.parquet`, `data/<split>-*.parquet`, files whose name contains the split). Datasets that only ship a loading script have a Parquet conversion at `revision = \"refs/convert/parquet\"`.",
  T7205:
    "The dataset has several configurations and the recipe names none. Set `config = \"…\"` in the dataset block to one of the names listed.",
  T7206:
    "A file's bytes do not match the hash the Hub lists for it (sha256 for LFS files, the git blob hash otherwise). A downloaded file is discarded before it enters the cache; a corrupted file already in the cache is refused, and deleting it makes the next run download it again.",
  T7207:
    "The Hub answered with an error tune does not know how to recover from (a 5xx, an unexpected response). Retry later, or check HF_ENDPOINT when a mirror is used.",
  T7208:
    "A hub dataset id is `org/name` (letters, digits, `-`, `_`, `.`), and every file path the Hub lists must stay inside the repository; anything else is refused before it touches the cache.",
};

/** `tune explain` entries in the catalogue's shape ({ title, explanation }), like cli/registry's REGISTRY_CODES. */
export const HUB_CATALOGUE: Readonly<Record<HubCode, { readonly title: string; readonly explanation: string }>> = Object.fromEntries(
  (Object.keys(HUB_CODES) as HubCode[]).map((c) => [c, { title: HUB_CODES[c], explanation: EXPLANATIONS[c] }]),
) as Record<HubCode, { readonly title: string; readonly explanation: string }>;

/** A hub dataset error: a code, a self-contained message and a hint. */
export class HubDatasetError extends Error {
  readonly code: HubCode;
  readonly hint: string;

  constructor(code: HubCode, message: string, hint: string) {
    super(message);
    this.name = "HubDatasetError";
    this.code = code;
    this.hint = hint;
  }

  /** `error[T7201]: message\n  = help: hint` as the CLI prints it. */
  render(): string {
    return `error[${this.code}]: ${this.message}\n  = help: ${this.hint}`;
  }
}

/** The hint that ends most errors: how to give tune the data without the Hub. */
export function provideLocally(id: string, revision: string): string {
  const rev = revision === "main" ? "" : ` --revision ${revision}`;
  return `point the dataset at a local file with \`path = "…"\`, or pre-populate the Hugging Face cache with \`huggingface-cli download --repo-type dataset ${id}${rev}\``;
}
