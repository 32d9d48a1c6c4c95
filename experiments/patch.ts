// Dotted-path patches for sweeps and variants: `set("servers.count", 4)` on a copy of the
// experiment's JSON, before validation, so a patched run is checked like any other file.
// A numeric segment indexes an array (`faults.0.atMs`); `null` deletes the field, which
// turns an optional section off (`"retry": null`).

export function withPatch(base: unknown, path: string, value: unknown): unknown {
  const copy = structuredClone(base);
  setPath(copy, path, value);
  return copy;
}

export function setPath(target: unknown, path: string, value: unknown): void {
  const keys = path.split('.');
  if (keys.some((k) => k === '')) throw new Error(`bad path "${path}": empty segment`);
  let node = target as Record<string, unknown>;
  for (let k = 0; k < keys.length - 1; k++) {
    const key = keys[k];
    let next = node[key];
    if (next === undefined || next === null) {
      if (value === null) return; // deleting below a missing parent: nothing to do
      next = /^\d+$/.test(keys[k + 1]) ? [] : {};
      node[key] = next;
    }
    if (typeof next !== 'object') {
      throw new Error(`cannot set "${path}": "${keys.slice(0, k + 1).join('.')}" is ${JSON.stringify(next)}, not an object`);
    }
    node = next as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (value === null) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else {
    node[last] = structuredClone(value);
  }
}
