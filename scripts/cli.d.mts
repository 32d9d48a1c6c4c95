// Types of scripts/cli.mjs (plain JavaScript: it runs before any TypeScript tooling).
export const ENTRIES: Record<string, string>;
export const V8_FLAGS: string[];
export function cliBundle(name: string, root?: string): Promise<string>;
