// Where a JSON text first goes wrong, as line and column. JSON.parse does not always say,
// Node 24 included (`Unexpected token '}'` carries no position), so on failure a small
// scanner walks the grammar (RFC 8259) and stops at the first byte it cannot accept.

export interface JsonSyntaxProblem {
  line: number;
  column: number;
  message: string;
}

/** Parses `text`; on a syntax error throws a JsonSyntaxError with line and column (1-based). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const problem = locateJsonError(text);
    throw new JsonSyntaxError(problem);
  }
}

export class JsonSyntaxError extends Error {
  constructor(readonly problem: JsonSyntaxProblem) {
    super(`line ${problem.line}, column ${problem.column}: ${problem.message}`);
  }
}

/** The first syntax error in `text` (the text must not be valid JSON). */
export function locateJsonError(text: string): JsonSyntaxProblem {
  let i = 0;
  const fail = (message: string): never => { throw new ScanStop(i, message); };
  const describe = (): string => (i >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text[i])}`);
  const skipSpace = (): void => { while (i < text.length && ' \t\r\n'.includes(text[i])) i++; };
  const expect = (word: string): void => {
    if (text.startsWith(word, i)) { i += word.length; return; }
    const end = /^[A-Za-z]*/.exec(text.slice(i, i + 40))![0];
    fail(`unexpected ${JSON.stringify(end)}; expected ${JSON.stringify(word)}`);
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const ch = text[i];
      if (ch === '"') { i++; return; }
      if (ch < ' ') fail('control character in string (escape it)');
      if (ch === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('bad \\u escape');
          i += 5;
        } else if (text[i] !== undefined && '"\\/bfnrt'.includes(text[i])) i++;
        else fail('bad escape in string');
      } else i++;
    }
  };
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-') fail(`${describe()}; expected a value`);
    i += m![0].length;
  };
  const value = (): void => {
    skipSpace();
    const ch = text[i];
    if (ch === '{') {
      i++; skipSpace();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        skipSpace();
        if (text[i] !== '"') fail(`${describe()}; expected a double-quoted property name`);
        string(); skipSpace();
        if (text[i] !== ':') fail(`${describe()}; expected ':' after property name`);
        i++; value(); skipSpace();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail(`${describe()}; expected ',' or '}' after property value`);
      }
    }
    if (ch === '[') {
      i++; skipSpace();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(); skipSpace();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail(`${describe()}; expected ',' or ']' after array element`);
      }
    }
    if (ch === '"') return string();
    if (ch === 't') return expect('true');
    if (ch === 'f') return expect('false');
    if (ch === 'n') return expect('null');
    if (ch === '-' || (ch >= '0' && ch <= '9')) return number();
    fail(`${describe()}; expected a value`);
  };
  let offset = text.length;
  let message = 'invalid JSON';
  try {
    value();
    skipSpace();
    if (i < text.length) fail(`${describe()} after the end of the document`);
  } catch (e) {
    if (!(e instanceof ScanStop)) throw e;
    offset = e.offset;
    message = e.message;
  }
  return { ...lineColumn(text, offset), message };
}

class ScanStop extends Error {
  constructor(readonly offset: number, message: string) { super(message); }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text[k] === '\n') { line++; lineStart = k + 1; }
  }
  return { line, column: offset - lineStart + 1 };
}
