// Fulcrum's proxy with `--workers 1` and `--workers 2` (Node cluster), interleaved in rounds:
// wrk -t1 -c50 for 5 s against each, in front of 3 replicas with 0 ms service time.
// Prints req/s per round and the median ratio 2 workers / 1 worker. Run it on an idle machine:
//   npx tsx scripts/workers-throughput.ts [ROUNDS]
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { spawnReplica } from '../server/spawn.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(process.argv[2] ?? 5);

async function measure(workers: number, backends: string[]): Promise<number> {
  const child = spawn(process.execPath, [
    '--import', 'tsx', 'live/proxy/cli.ts', '--listen', '127.0.0.1:0', '--admin', 'off', '--policy', 'least-connections',
    '--seed', '1', '--workers', String(workers), '--stop-on-stdin-end', ...backends.map((b) => `--backend=${b}`),
  ], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    const { url } = JSON.parse(line) as { url: string };
    execFileSync('wrk', ['-t1', '-c50', '-d2s', `${url}/`]); // warm-up, not counted
    const out = execFileSync('wrk', ['-t1', '-c50', '-d5s', `${url}/`], { encoding: 'utf8' });
    return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]);
  } finally {
    child.stdin!.end();
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

const replicas = await Promise.all([1, 2, 3].map((i) => spawnReplica({ id: `s${i}`, serviceTime: { dist: 'constant', value: 0 }, concurrency: 1_000 })));
try {
  const ratios: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const one = await measure(1, replicas.map((r) => `${r.id}=${r.url}`));
    const two = await measure(2, replicas.map((r) => `${r.id}=${r.url}`));
    ratios.push(two / one);
    console.log(`round ${round}: --workers 1 ${one.toFixed(0)} req/s, --workers 2 ${two.toFixed(0)} req/s`);
  }
  ratios.sort((a, b) => a - b);
  console.log(`median ratio 2 workers / 1 worker: ${ratios[Math.floor(ratios.length / 2)].toFixed(2)}`);
} finally {
  await Promise.all(replicas.map((r) => r.stop()));
}
