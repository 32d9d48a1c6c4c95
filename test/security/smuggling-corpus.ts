// A generated request-smuggling corpus: the mutation classes of defparam/smuggler's configs
// (exhaustive.py: a byte before, inside or after the Transfer-Encoding name and value;
// separators around the colon; casing; lists; duplicates; folding), PortSwigger's
// http-request-smuggler techniques (CL.TE, TE.CL, Content-Length values and duplicates,
// chunk-size tricks) and llhttp's request tests (request-line and line-ending variants),
// regenerated here rather than vendored, so every payload is deterministic and tagged.
// Each case is one request `POST /c<id>_` (Connection: close) that hides `GET /s<id>_` in its
// body under one reading of its framing and not under another.
export interface CorpusCase {
  id: number;
  /** The mutation class (one row per class in the README's security table). */
  cls: string;
  /** What was mutated, for a failure message. */
  what: string;
  /** The bytes sent (latin1). */
  payload: string;
  /** The framing declares more body than is sent (a chunk of 2^63 bytes): waiting for it is right. */
  incomplete?: boolean;
}

const ALL_BYTES = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b));
const hex = (c: string) => `0x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

const smuggled = (id: number) => `GET /s${id}_ HTTP/1.1\r\nHost: a\r\n\r\n`;

function request(id: number, headers: string[], body: string, line = `POST /c${id}_ HTTP/1.1`): string {
  return [line, 'Host: a', 'Connection: close', ...headers].join('\r\n') + '\r\n\r\n' + body;
}

/** CL.TE: Content-Length covers everything; a chunked reading ends early and finds the smuggled request. */
function clte(id: number, teLine: string | string[]): string {
  const body = '0\r\n\r\n' + smuggled(id);
  return request(id, [`Content-Length: ${body.length}`, ...[teLine].flat()], body);
}

/** TE.CL: the chunk holds the smuggled request; a Content-Length reading stops after 4 bytes. */
function tecl(id: number, teLine: string | string[]): string {
  const inner = smuggled(id);
  const body = `${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`;
  return request(id, ['Content-Length: 4', ...[teLine].flat()], body);
}

export function generateCorpus(): CorpusCase[] {
  const cases: CorpusCase[] = [];
  const add = (cls: string, what: string, make: (id: number) => string, incomplete?: boolean) => {
    const id = cases.length;
    cases.push({ id, cls, what, payload: make(id), ...(incomplete ? { incomplete } : {}) });
  };

  // smuggler exhaustive: one byte before, inside or after the header name.
  for (const c of ALL_BYTES) {
    add('te-name-byte', `${hex(c)} + Transfer-Encoding`, (id) => clte(id, `${c}Transfer-Encoding: chunked`));
    add('te-name-byte', `Transfer${hex(c)}Encoding`, (id) => clte(id, `Transfer${c}Encoding: chunked`));
    add('te-name-byte', `Transfer-Encoding + ${hex(c)}`, (id) => clte(id, `Transfer-Encoding${c}: chunked`));
  }
  // ... and in the value.
  for (const c of ALL_BYTES) {
    add('te-value-byte', `${hex(c)} + chunked`, (id) => clte(id, `Transfer-Encoding: ${c}chunked`));
    add('te-value-byte', `chun${hex(c)}ked`, (id) => tecl(id, `Transfer-Encoding: chun${c}ked`));
    add('te-value-byte', `chunked + ${hex(c)}`, (id) => tecl(id, `Transfer-Encoding: chunked${c}`));
  }
  const SEPARATORS = ['', ' ', '  ', '\t', '\v', '\f', '\r', ' \t', '\x00', '\xa0'];
  for (const before of SEPARATORS) {
    for (const after of SEPARATORS) {
      const what = `${JSON.stringify(before)} : ${JSON.stringify(after)}`;
      add('te-separator', `CL.TE ${what}`, (id) => clte(id, `Transfer-Encoding${before}:${after}chunked`));
      add('te-separator', `TE.CL ${what}`, (id) => tecl(id, `Transfer-Encoding${before}:${after}chunked`));
    }
  }
  for (const name of ['transfer-encoding', 'TRANSFER-ENCODING', 'Transfer-encoding', 'tRANSFER-eNCODING']) {
    for (const value of ['chunked', 'CHUNKED', 'Chunked', 'cHuNkEd']) {
      add('te-case', `CL.TE ${name}: ${value}`, (id) => clte(id, `${name}: ${value}`));
      add('te-case', `TE.CL ${name}: ${value}`, (id) => tecl(id, `${name}: ${value}`));
    }
  }
  const LISTS = ['chunked, identity', 'identity, chunked', 'gzip, chunked', 'chunked, chunked', 'chunked,', ',chunked', ' , chunked',
    '"chunked"', 'chunked;q=1', 'chunked ;', 'xchunked', 'chunkedx', 'chunk', 'identity', 'x, chunked', 'chunked\t', '\tchunked',
    'chunked, gzip', 'deflate,chunked', 'chunked,,', ', ,chunked', 'CHUNKED, identity', 'compress', 'chunked\x00'];
  for (const value of LISTS) {
    add('te-value-list', `CL.TE ${JSON.stringify(value)}`, (id) => clte(id, `Transfer-Encoding: ${value}`));
    add('te-value-list', `TE.CL ${JSON.stringify(value)}`, (id) => tecl(id, `Transfer-Encoding: ${value}`));
  }
  const DUP_VALUES = ['chunked', 'identity', 'gzip', 'x', '', 'CHUNKED'];
  for (const a of DUP_VALUES) for (const b of DUP_VALUES) {
    add('te-duplicate', `${JSON.stringify(a)} then ${JSON.stringify(b)}`, (id) => clte(id, [`Transfer-Encoding: ${a}`, `Transfer-Encoding: ${b}`]));
  }
  const FOLDS = [['Transfer-Encoding:', ' chunked'], ['Transfer-Encoding:', '\tchunked'], ['Transfer-Encoding: x', ' chunked'], ['X: y', ' Transfer-Encoding: chunked'],
    ['Transfer-Encoding: chunked', ' x'], ['Transfer-Encoding:', '  chunked'], ['X-Foo: bar', '\tTransfer-Encoding: chunked'], ['Transfer-Encoding: identity', ' ,chunked']];
  for (const lines of FOLDS) {
    add('te-fold', `CL.TE ${JSON.stringify(lines)}`, (id) => clte(id, lines));
    add('te-fold', `TE.CL ${JSON.stringify(lines)}`, (id) => tecl(id, lines));
  }
  // Content-Length values: `hello` + the smuggled request as body; a length that stops early leaves it as a request.
  const CL_VALUES = ['5', '+5', '-5', '05', '0x5', '5.0', '5e0', ' 5', '5 ', '5\t', '\t5', '5, 5', '5,5', '5, 6', '6, 5', '5;', '"5"', '5a', 'a5', '',
    '99999999999999999999', '18446744073709551621', '4294967301', '0', '00000000000000000005', '5\x00', '\x005', '5\v', '\f5', '1_0', 'five', '५', '5\r5'];
  for (const v of CL_VALUES) {
    add('cl-value', `Content-Length ${JSON.stringify(v)}`, (id) => request(id, [`Content-Length: ${v}`], 'hello' + smuggled(id)));
  }
  for (const c of ALL_BYTES) {
    add('cl-name-byte', `${hex(c)} + Content-Length`, (id) => request(id, [`${c}Content-Length: 5`, 'Content-Length: 5'], 'hello' + smuggled(id)));
    add('cl-name-byte', `Content-Length + ${hex(c)}`, (id) => request(id, [`Content-Length${c}: 5`], 'hello' + smuggled(id)));
  }
  const CL_DUPS = [['5', '5'], ['5', '6'], ['6', '5'], ['5', ''], ['', '5'], ['5', '0'], ['0', '5'], ['5', '+5'], ['5', '05'], ['5', ' 5']];
  for (const [a, b] of CL_DUPS) {
    add('cl-duplicate', `Content-Length ${a} then ${b}`, (id) => request(id, [`Content-Length: ${a}`, `Content-Length: ${b}`], 'hello' + smuggled(id)));
  }
  // Chunk-size lines (http-request-smuggler's chunk tricks, llhttp's chunked tests).
  const SIZES = ['5', '05', '0005', '5 ', ' 5', '5\t', '5;', '5;a', '5;a=b', '5;a="b"', '5; a=b', '5 ;a=b', '5;a=b;c=d', '5;a="b\\"c"', '5;a="b', '5;\x00', '5;a\r=b',
    '0x5', '+5', '-5', '5g', 'g', '', '5\v', '5\f', '00000000000000000000005', 'fffffffffffffffff', '8000000000000000', '5\x00', '5;a=\rb', '5 junk',
    '5;a=b\n', 'A', 'a', '05;ext', '5;ext="q\\r"'];
  for (const size of SIZES) {
    add('chunk-size', `size line ${JSON.stringify(size)}`, (id) => request(id, ['Transfer-Encoding: chunked'], `${size}\r\nhello\r\n0\r\n\r\n` + smuggled(id)),
      size === '8000000000000000');
  }
  const TERMINATORS = ['0\r\n\r\n', '0\r\n', '0\n\n', '0\r\r\n', '00\r\n\r\n', '0;x=y\r\n\r\n', '0\r\nX-T: 1\r\n\r\n', '0\r\nX-T: 1\n\r\n', '0\r\nX-T:\r\n\r\n',
    '0\r\n Transfer-Encoding: chunked\r\n\r\n', '0\r\nContent-Length: 99\r\n\r\n', '0\r\nTransfer-Encoding: identity\r\n\r\n', '0 \r\n\r\n', '0\t\r\n\r\n',
    '0\r\nX\x00: 1\r\n\r\n', '0\r\nX: 1\r\r\n\r\n', '0\r\n\n', '0\r\n\r\r', '-0\r\n\r\n', '0x0\r\n\r\n'];
  for (const end of TERMINATORS) {
    add('chunk-terminator', `last chunk ${JSON.stringify(end)}`, (id) => request(id, ['Transfer-Encoding: chunked'], `5\r\nhello\r\n${end}` + smuggled(id)));
    add('chunk-terminator', `chunk data overrun + ${JSON.stringify(end)}`, (id) => request(id, ['Transfer-Encoding: chunked'], `3\r\nhello\r\n${end}` + smuggled(id)));
  }
  // Request lines (llhttp request tests): a byte in the version, odd separators and versions.
  for (const c of ALL_BYTES) {
    add('request-line-byte', `HTTP${hex(c)}/1.1`, (id) => clte(id, 'X: y').replace(/^POST (\S+) HTTP\/1\.1/, `POST $1 HTTP${c}/1.1`));
    add('request-line-byte', `HTTP/1.1 + ${hex(c)}`, (id) => clte(id, 'X: y').replace(/^POST (\S+) HTTP\/1\.1/, `POST $1 HTTP/1.1${c}`));
    add('request-line-byte', `target + ${hex(c)}`, (id) => clte(id, 'X: y').replace(/^POST (\S+) HTTP\/1\.1/, `POST $1${c} HTTP/1.1`));
  }
  const LINES = ['POST /c{id}_ HTTP/1.1', 'POST  /c{id}_ HTTP/1.1', 'POST /c{id}_  HTTP/1.1', 'POST\t/c{id}_ HTTP/1.1', 'POST /c{id}_\tHTTP/1.1', ' POST /c{id}_ HTTP/1.1',
    'POST /c{id}_ HTTP/1.1 ', 'POST /c{id}_ http/1.1', 'POST /c{id}_ HTTP/1.2', 'POST /c{id}_ HTTP/1.10', 'POST /c{id}_ HTTP/01.1', 'POST /c{id}_ HTTP/2.0', 'POST /c{id}_ HTTP/0.9',
    'POST /c{id}_ HTTP/1', 'POST /c{id}_ HTTP/1.', 'POST /c{id}_ HTTP/1.1.1', 'POST /c{id}_ RTSP/1.0', 'POST /c{id}_ ICE/1.0', 'POST /c{id}_ HTTPS/1.1', 'POST /c{id}_',
    'post /c{id}_ HTTP/1.1', 'PoSt /c{id}_ HTTP/1.1', 'POST http://a/c{id}_ HTTP/1.1', 'POST //c{id}_ HTTP/1.1', 'POST /c{id}_#x HTTP/1.1', 'POST * HTTP/1.1',
    'POST /c{id}_?a b HTTP/1.1', 'POST /c{id}_ HTTP/1.1\x00', 'CONNECT /c{id}_ HTTP/1.1', 'POST\x00/c{id}_ HTTP/1.1'];
  for (const line of LINES) {
    add('request-line', JSON.stringify(line), (id) => {
      const body = '0\r\n\r\n' + smuggled(id);
      return request(id, [`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked'], body, line.replace('{id}', String(id)));
    });
    add('request-line', `${JSON.stringify(line)} (Content-Length only)`, (id) => request(id, ['Content-Length: 5'], 'hello', line.replace('{id}', String(id))));
  }
  // Line endings (bare LF, bare CR) around and inside the framing headers.
  const ENDINGS = ['\n', '\r', '\r\r\n', '\n\r', '\r\n\r', ' \r\n', '\r \n', '\x00\r\n'];
  for (const e of ENDINGS) {
    const what = JSON.stringify(e);
    add('line-endings', `after TE ${what}`, (id) => request(id, [`Transfer-Encoding: chunked${e}Content-Length: 4`], '0\r\n\r\n' + smuggled(id)));
    add('line-endings', `before TE ${what}`, (id) => request(id, [`X: y${e}Transfer-Encoding: chunked`, 'Content-Length: 30'], '0\r\n\r\n' + smuggled(id)));
    add('line-endings', `after request line ${what}`, (id) => clte(id, 'X: y').replace('HTTP/1.1\r\n', `HTTP/1.1${e}`));
    add('line-endings', `end of head ${what}`, (id) => clte(id, 'X: y').replace('\r\n\r\n', `\r\n${e}`));
  }
  // Arbitrary header names with one byte in them (llhttp token rules), next to real framing.
  for (const c of ALL_BYTES) {
    add('header-name-byte', `X-Test${hex(c)}`, (id) => request(id, [`X-Test${c}: 1`, 'Content-Length: 5'], 'hello' + smuggled(id)));
    add('header-name-byte', `${hex(c)}X`, (id) => request(id, [`${c}X: 1`, 'Content-Length: 5'], 'hello' + smuggled(id)));
  }
  // Look-alike framing names (finding 8).
  for (const name of ['Transfer_Encoding', 'Content_Length', 'Transfer---Encoding', 'TransferEncoding', 'Transfer.Encoding', 'Content~Length', 'content__length']) {
    add('look-alike-header', name, (id) => request(id, [`${name}: ${name.toLowerCase().includes('length') ? '99' : 'chunked'}`, 'Content-Length: 5'], 'hello' + smuggled(id)));
  }
  const HOSTS = [['Host: a', 'Host: b'], ['Host: a b'], ['Host: a\tb'], ['Host: a@b'], ['Host: a:1:2'], ['Host: [::1'], ['Host: a/b'], ['Host:'], ['Host: a\x00'],
    ['Host : a'], ['host: a', 'HOST: a'], ['Host: 1.2.3.4:99999'], ['Host: a', 'X-Forwarded-Host: evil'], ['Host: a,b'], ['Host: %00']];
  for (const hosts of HOSTS) {
    add('host', JSON.stringify(hosts), (id) => request(id, [...hosts, 'Content-Length: 5'], 'hello' + smuggled(id)).replace('Host: a\r\nConnection', 'Connection'));
  }
  // Upgrade with requests pipelined behind it (finding 1).
  for (const upgrade of ['websocket', 'h2c', 'WebSocket', 'foo', 'websocket, h2c']) {
    for (const connection of ['Upgrade', 'upgrade, keep-alive', 'keep-alive, Upgrade', 'close, Upgrade']) {
      add('upgrade-pipeline', `Upgrade: ${upgrade}, Connection: ${connection}`,
        (id) => `GET /c${id}_ HTTP/1.1\r\nHost: a\r\nConnection: ${connection}\r\nUpgrade: ${upgrade}\r\n\r\n` + smuggled(id));
    }
  }
  return cases;
}
