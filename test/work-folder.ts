// A test file's own scratch folder under the system's temporary folder, removed after the file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A fresh folder fulcrum-<name>-…, removed after the file's tests. */
export function workFolder(name: string): string {
  const work = mkdtempSync(join(tmpdir(), `fulcrum-${name}-`));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  return work;
}
