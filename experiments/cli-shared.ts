// What the `sim` and `live` command lines share: the default experiment and the --seed flag.
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The original A-1: what `npm run sim` and `npm run live` run when no file is given. */
export const DEFAULT_EXPERIMENT = relative(process.cwd(), fileURLToPath(new URL('./a1.json', import.meta.url)));

/** --seed: an integer 0 … 2³²−1, or a message saying what is allowed. */
export function parseSeedFlag(text: string | undefined): { seed?: number; error?: string } {
  if (text === undefined) return {};
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) {
    return { error: `--seed: got ${JSON.stringify(text)}; expected an integer 0 … 4294967295` };
  }
  return { seed };
}
