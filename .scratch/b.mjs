import { parse } from 'csv-parse/sync';
const line = '1733400000123.5,10.1.2.3,GET,/api/users/123?x=1,12.25';
let t = performance.now();
for (let i = 0; i < 200000; i++) parse(line, { relax_column_count: false });
console.log('sync per line us', (performance.now() - t) / 200);
import { Parser } from 'csv-parse';
// drive the streaming parser synchronously
const p = new Parser({ info: true });
let n = 0;
t = performance.now();
const chunk = Buffer.from((line + '\n').repeat(10000));
for (let k = 0; k < 20; k++) {
  p.write(chunk);
  let r; while ((r = p.read()) !== null) n++;
}
console.log('stream sync records', n, 'per line us', (performance.now() - t) / n * 1000);
