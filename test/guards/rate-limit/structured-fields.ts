/**
 * A small, strict RFC 8941 parser for the one shape the RateLimit fields
 * use: a List of Items whose bare item is a String and whose parameters are
 * Integers (or Booleans). Anything else, including lenient spellings a
 * forgiving parser would accept, throws, so a malformed field fails the test.
 * Written here rather than adding a dependency for one test shape.
 */

export interface SfItem {
  value: string;
  params: Map<string, number | boolean>;
}

/**
 * @example
 * parseSfList('"default";r=42;t=17'); // [{ value: 'default', params: Map { r → 42, t → 17 } }]
 */
export function parseSfList(input: string): SfItem[] {
  let i = 0;
  const s = input;
  const fail = (what: string): never => {
    throw new Error(`not an RFC 8941 list (${what} at ${i}): ${JSON.stringify(input)}`);
  };
  const skipSp = () => {
    while (s[i] === ' ') i += 1;
  };
  const skipOws = () => {
    while (s[i] === ' ' || s[i] === '\t') i += 1;
  };

  function parseString(): string {
    if (s[i] !== '"') fail('expected a String');
    i += 1;
    let out = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) fail('unterminated String');
      i += 1;
      if (c === '\\') {
        const next = s[i];
        if (next !== '"' && next !== '\\') fail('bad escape');
        out += next;
        i += 1;
      } else if (c === '"') {
        return out;
      } else {
        const code = c!.charCodeAt(0);
        if (code < 0x20 || code > 0x7e) fail('non-printable character');
        out += c;
      }
    }
  }

  function parseBareParam(): number | boolean {
    if (s[i] === '?') {
      const b = s[i + 1];
      if (b !== '0' && b !== '1') fail('bad Boolean');
      i += 2;
      return b === '1';
    }
    const m = /^-?\d{1,15}/.exec(s.slice(i));
    if (m === null) fail('expected an Integer');
    if (s[i + m![0].length] === '.') fail('Decimal where an Integer is expected');
    i += m![0].length;
    return Number(m![0]);
  }

  function parseParams(): Map<string, number | boolean> {
    const params = new Map<string, number | boolean>();
    while (s[i] === ';') {
      i += 1;
      skipSp();
      const m = /^[a-z*][a-z0-9_\-.*]*/.exec(s.slice(i));
      if (m === null) fail('bad parameter key');
      i += m![0].length;
      let value: number | boolean = true;
      if (s[i] === '=') {
        i += 1;
        value = parseBareParam();
      }
      params.set(m![0], value);
    }
    return params;
  }

  skipSp();
  const items: SfItem[] = [];
  if (i === s.length) return items;
  for (;;) {
    const value = parseString();
    items.push({ value, params: parseParams() });
    skipOws();
    if (i === s.length) break;
    if (s[i] !== ',') fail('expected ","');
    i += 1;
    skipOws();
    if (i === s.length) fail('trailing comma');
  }
  return items;
}
