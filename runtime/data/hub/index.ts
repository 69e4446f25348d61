// Hugging Face Hub datasets: resolve a recipe's `dataset { hub = … }` to verified files in the standard HF cache
// (shared with Python's huggingface_hub / datasets), then read them as one source.
//
// File map: settings.ts (HF_* environment) · cache-layout.ts (blobs / snapshots / refs, verification) ·
// client.ts (@huggingface/hub calls, error mapping) · select.ts (config/split → files) · resolve.ts (cache or
// Hub, offline fallback) · open.ts (shards as one source) · errors.ts (T72xx). Docs: docs/hub-datasets.md.

export { hubRequestOf, resolveHubDataset, resolveHubCommit, type HubDatasetRequest, type ResolvedHubDataset } from "./resolve.js";
export { openHubFiles } from "./open.js";
export { HubDatasetError, HUB_CODES, HUB_CATALOGUE, type HubCode } from "./errors.js";
export { hubCacheDir, hubEndpoint, hubOffline, hubToken } from "./settings.js";
export { RepoCache, repoFolderName } from "./cache-layout.js";
export { selectFiles, cardConfigs, globToRegExp, incompleteShards, type HubFormat, type Selection } from "./select.js";
