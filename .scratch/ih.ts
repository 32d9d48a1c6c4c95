import { parseExperiment } from '../experiments/schema.ts';
import { runPlan } from '../sim/run.ts';
import { readFileSync } from 'node:fs';
const source = JSON.parse(readFileSync('experiments/traces/a9-source.json', 'utf8'));
for (const policy of ['round-robin', 'ip-hash']) {
  const file = `experiments/traces/a9-${policy}.csv`;
  const spec = { name: 'r', seed: 19, servers: source.servers, network: source.network, workload: { trace: { file, format: 'fulcrum', overheadMs: Number(process.argv[2] ?? 1.1), recordedConcurrency: 2 }, path: '/home' }, balancer: { policy } };
  await runPlan(parseExperiment(spec, 'r'), { outDir: `/tmp/trace-ih-${policy}`, writeRequests: true });
}
