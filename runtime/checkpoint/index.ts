// Public surface of model-directory I/O: load and save whole Hugging Face Llama directories.
//
// Why this exists: the CLI, the graph executor and evaluation import one module for "a model on disk".

export { CheckpointError, codedError } from "./errors.js";
export { GENERATION_CONFIG_FILE, checkAgainstConfig, loadModelDir } from "./load.js";
export type { GenerationDefaults, LoadModelDirOptions, LoadedModelDir } from "./load.js";
export { TOKENIZER_FILES, generationConfigJson, modelTensors, saveModelDir } from "./save.js";
export type { SaveModelDirOptions } from "./save.js";
