// `npm run live -- --metrics MS`: the run as a dashboard would show it. Every MS the proxy's
// and each replica's metrics are read, as Prometheus would scrape them, and kept with the
// wall-clock time; when the run ends they are written beside its result files as metrics.om,
// OpenMetrics text that `promtool tsdb create-blocks-from openmetrics metrics.om DATA_DIR`
// turns into Prometheus blocks (start Prometheus on DATA_DIR, open the Grafana dashboard on
// the run's time range). Opt-in and git-ignored: wall-clock timestamps and process metrics
// differ on every run, so the file cannot be byte-identical like the other result files.
import { writeFile } from 'node:fs/promises';

/** One scrape target: resolves to a Prometheus text exposition. */
export type MetricsSource = () => Promise<string>;

interface Family { header: string[]; samples: string[] }

export class MetricsRecorder {
  /** OpenMetrics wants each family's samples together, so they are grouped across scrapes. */
  private readonly families = new Map<string, Family>();
  private readonly timer: NodeJS.Timeout;
  private scraping: Promise<void> = Promise.resolve();

  constructor(private readonly sources: readonly MetricsSource[], intervalMs: number) {
    this.timer = setInterval(() => { this.scraping = this.scraping.then(() => this.scrape()); }, intervalMs);
    this.scraping = this.scrape();
  }

  /** Takes one last scrape, so the file ends with the run's final counts, and writes it. */
  async finish(file: string): Promise<void> {
    this.cancel();
    await this.scraping;
    await this.scrape();
    const lines: string[] = [];
    for (const family of this.families.values()) lines.push(...family.header, ...family.samples);
    await writeFile(file, `${lines.join('\n')}\n# EOF\n`);
  }

  cancel(): void { clearInterval(this.timer); }

  private async scrape(): Promise<void> {
    const atSeconds = (Date.now() / 1000).toFixed(3);
    // A replica that is down (a crash fault) is a gap in its series, as in Prometheus.
    for (const scraped of await Promise.allSettled(this.sources.map((read) => read()))) {
      if (scraped.status === 'fulfilled') this.add(scraped.value, atSeconds);
    }
  }

  private add(exposition: string, atSeconds: string): void {
    let family: Family | undefined;
    for (const line of exposition.split('\n')) {
      if (line === '') continue;
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (meta) {
        family = this.families.get(meta[2]);
        if (!family) { family = { header: [], samples: [] }; this.families.set(meta[2], family); }
        if (family.header.length < 2) family.header.push(line);
      } else if (!line.startsWith('#') && family) {
        family.samples.push(`${line} ${atSeconds}`);
      }
    }
  }
}

/** A replica's /metrics over HTTP (fails when the replica is down). */
export function httpSource(url: string): MetricsSource {
  return async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    return res.text();
  };
}
