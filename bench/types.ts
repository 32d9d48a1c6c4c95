/** What every bench module's default export returns; bench/run.ts prints it as markdown. */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: Array<Array<string | number>>;
  notes?: string[];
}
