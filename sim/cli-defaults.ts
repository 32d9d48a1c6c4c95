import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The original A-1: what `npm run sim` and `npm run live` run when no file is given. */
export const DEFAULT_EXPERIMENT = relative(process.cwd(), fileURLToPath(new URL('../experiments/a1.json', import.meta.url)));
