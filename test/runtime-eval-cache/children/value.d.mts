/** The value the SIGKILL child stores under `key` (value.mjs). */
export function valueFor(key: string): { logprob: number; isGreedy: boolean; pad: string };
