// Types of gen.mjs (plain JS so that child processes can import it without a TypeScript loader).
export function gen(seed: string, size: number): Buffer;
