import { haproxyLine } from '../experiments/trace/haproxy.ts';
import { nginxLine } from '../experiments/trace/nginx.ts';
import { readTrace } from '../experiments/trace/read.ts';
console.log(haproxyLine('Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 "GET /index.html HTTP/1.1"', 1));
console.log(haproxyLine('10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/+2 0/0 {host} {} "POST /x?y=1 HTTP/1.1"', 2));
console.log(nginxLine('10.0.0.1 - - [05/Dec/2026:21:33:54 +0000] "GET /api/x?a=1 HTTP/1.1" 200 612 "-" "curl/8.0 \\"q\\"" 0.013 0.010, 0.002 10.0.0.5:80, 10.0.0.6:80 1796506434.123', 3));
console.log(nginxLine('10.0.0.1 - - [05/Dec/2026:21:33:54 +0000] "GET /api/x?a=1 HTTP/1.1" 200 612 "-" "curl/8.0" 0.013 0.010 10.0.0.5:80', 4));
console.log(nginxLine('10.0.0.1 - - [05/Dec/2026:21:33:54 +0000] "-" 400 0 "-" "-" 0.000 - -', 5));
let n = 0; let first; for (const r of readTrace('experiments/traces/a9-round-robin.csv', 'fulcrum')) { if (!first) first = r; n++; }
console.log(n, first);
