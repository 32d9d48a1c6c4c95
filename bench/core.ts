// Picks per second per policy at 3, 100 and 1,000 backends, next to a bare array
// round-robin measured in the same process (the floor any policy can reach).
import { Bench } from 'tinybench';
import seedrandom from 'seedrandom';
import { Balancer, BalancerSchema, POLICY_NAMES } from '../core/index.ts';
import type { BenchTable } from './types.ts';

const SIZES = [3, 100, 1_000];
const BATCH = 1_000; // picks per timed sample: one pick is too short to time alone
const KEYS = Array.from({ length: 4_096 }, (_, i) => `127.0.${(i >> 8) & 255}.${i & 255}`);

export default async function coreBench(): Promise<BenchTable> {
  const bench = new Bench({ time: 300, warmup: true });
  for (const n of SIZES) {
    const list = Array.from({ length: n }, (_, i) => ({ id: `s${i + 1}` }));
    let i = 0;
    let sink = 0;
    bench.add(`baseline/${n}`, () => {
      for (let k = 0; k < BATCH; k++) sink += list[i++ % n].id.length;
    });
    for (const policy of POLICY_NAMES) {
      const lb = new Balancer({ balancer: BalancerSchema.parse({ policy }), rng: seedrandom.alea(policy) });
      for (let s = 1; s <= n; s++) lb.add(`s${s}`, { nowMs: 0, weight: 1 + (s % 3), initial: true });
      // A little load so load-aware policies have something to compare.
      for (const id of lb.ids().slice(0, Math.ceil(n / 2))) lb.attemptStarted(lb.backend(id)!, 0);
      let k0 = 0;
      bench.add(`${policy}/${n}`, () => {
        for (let k = 0; k < BATCH; k++) {
          const b = lb.pick({ nowMs: k0, hashKey: KEYS[k0++ & 4095] });
          sink += b!.seq;
        }
      });
    }
    void sink;
  }
  await bench.run();
  const nsPerPick = (name: string) => {
    const r = bench.getTask(name)?.result;
    if (!r || !('latency' in r)) throw new Error(`bench ${name} did not complete`);
    return (r.latency.mean * 1e6) / BATCH;
  };
  const rows: BenchTable['rows'] = [];
  for (const policy of ['baseline', ...POLICY_NAMES]) {
    const cells = SIZES.map((n) => nsPerPick(`${policy}/${n}`));
    const at100 = cells[1];
    rows.push([
      policy,
      ...cells.map((ns) => `${ns.toFixed(0)} ns (${(1e3 / ns).toFixed(1)} M/s)`),
      (at100 / nsPerPick('baseline/100')).toFixed(1) + '×',
      policy === 'baseline' ? '' : at100 < 1_000 ? 'yes' : 'no',
    ]);
  }
  return {
    title: 'Routing core: one pick (ns, picks/s)',
    columns: ['policy', '3 backends', '100 backends', '1,000 backends', 'vs baseline @100', '< 1 µs @100'],
    rows,
    notes: [
      'Each sample times 1,000 picks through Balancer.pick (candidate cache, policy) with half the backends carrying one request; weights 1–3. Baseline = bare array round robin in the same process.',
      'O(n) by design, so they grow with the pool: smooth WRR, least-connections and rendezvous score every candidate; random scans weights when they differ (here they do); bounded-load sums the candidates\' in-flight counts for its bound before an O(log n) ring walk. The rest are O(1) or O(log n). Rendezvous is the one policy above 1 µs at 100 backends: it hashes every (key, backend) pair; use Maglev or ring-hash for large pools.',
    ],
  };
}
