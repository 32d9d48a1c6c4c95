// Where reliability runs write (gitignored): per-scenario summaries, the soak's history and result.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BUILD_DIR = fileURLToPath(new URL('../../.build/reliability/', import.meta.url));
export const SUMMARY_FILE = join(BUILD_DIR, 'summary.jsonl');
