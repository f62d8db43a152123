// Reads the README's runnable examples: their scripts, and their curl commands checked against what the README may use.

/** One README example: a shell script of curl commands and what they print. */
export interface Example {
  /** `pair`, or `game continued` for a block that goes on in the session of `game`. */
  readonly name: string;
  /** The `sh` block as written, which the README test runs in a shell. */
  readonly script: string;
  readonly commands: readonly Command[];
  /** For each `sleep` of the script, in order: how many commands come before it. */
  readonly sleepsAfter: readonly number[];
  readonly output: { readonly language: 'json' | 'yaml'; readonly text: string };
}

/** One curl command, as an HTTP request. */
export interface Command {
  readonly source: string;
  readonly method: 'GET' | 'POST';
  /** Path and query, e.g. `/event?event=e`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
  /** Ends in `&`: the next command starts once this one waits in the hub, as in a shell. */
  readonly background: boolean;
}

const MARKER = /<!-- example: ([\w -]+?) -->\s*```sh\n([\s\S]*?)```/g;
const OUTPUT = /```(json|yaml)\n([\s\S]*?)```/;

/**
 * Every `<!-- example: NAME -->` comment followed by a `sh` block; the example's output is the next `json`
 * or `yaml` block after it.
 */
export function readExamples(markdown: string): Example[] {
  const examples: Example[] = [];
  for (const found of markdown.matchAll(MARKER)) {
    const [whole, name = '', script = ''] = found;
    const rest = markdown.slice((found.index ?? 0) + whole.length);
    const output = OUTPUT.exec(rest);
    if (output === null) throw new Error(`README example ${name} has no json or yaml output block`);
    const commands: Command[] = [];
    const sleepsAfter: number[] = [];
    for (const line of script.split('\n').map((text) => text.trim()).filter((text) => text !== '')) {
      if (SLEEP.test(line)) {
        sleepsAfter.push(commands.length);
        continue;
      }
      const previous = commands.at(-1);
      // Two requests started together reach the server in either order; a sleep lets the first arrive first.
      if (previous?.background === true && sleepsAfter.at(-1) !== commands.length) {
        throw new Error(`README example ${name}: put a sleep between "${previous.source}" and the next command`);
      }
      commands.push(parseCommand(line));
    }
    examples.push({ name, script, commands, sleepsAfter, output: { language: output[1] as 'json' | 'yaml', text: output[2] ?? '' } });
  }
  return examples;
}

/** A pause between commands, as the README writes it. */
const SLEEP = /^sleep \d+(?:\.\d+)?$/;

/** `[echo 'TEXT' |] curl [-s] [-H 'name: value'] [-d DATA | -d@-] URL [&]` as an HTTP request. */
export function parseCommand(source: string): Command {
  const background = /&$/.test(source);
  const words = shellWords(source.replace(/&$/, '').trim());
  let stdin: string | undefined;
  if (words[0] === 'echo') {
    const pipe = words.indexOf('|');
    if (pipe !== 2) throw new Error(`unsupported echo in ${source}`);
    stdin = `${words[1] ?? ''}\n`;
    words.splice(0, 3);
  }
  if (words.shift() !== 'curl') throw new Error(`not a curl command: ${source}`);
  const headers: Record<string, string> = {};
  let body: string | undefined;
  let url: string | undefined;
  while (words.length > 0) {
    const word = words.shift() as string;
    if (word === '-s') continue;
    if (word === '-H') {
      const header = words.shift() ?? '';
      const colon = header.indexOf(':');
      headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    } else if (word === '-d' || word.startsWith('-d')) {
      const data = word === '-d' ? (words.shift() ?? '') : word.slice(2);
      // curl -d@- reads standard input and drops its line breaks.
      body = data === '@-' ? (stdin ?? '').replace(/[\r\n]/g, '') : data;
    } else if (!word.startsWith('-')) {
      url = word;
    } else {
      throw new Error(`unsupported curl option ${word} in ${source}`);
    }
  }
  const path = /^(?:https?:\/\/)?(?:0|localhost|127\.0\.0\.1)?:8000(\/.*)$/.exec(url ?? '')?.[1];
  if (path === undefined) throw new Error(`unsupported URL in ${source}`);
  if (body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  return { source, method: body === undefined ? 'GET' : 'POST', path, headers, body, background };
}

/** Split a command line into words: single and double quotes, `|` as its own word. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const pattern = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\|)|([^\s'"|]+)/g;
  let current: string | undefined;
  let last = 0;
  for (const match of line.matchAll(pattern)) {
    const index = match.index ?? 0;
    const gap = line.slice(last, index);
    if (current !== undefined && (gap !== '' || match[3] !== undefined)) {
      words.push(current);
      current = undefined;
    }
    if (match[3] !== undefined) {
      words.push('|');
    } else {
      const piece = match[1] ?? (match[2] === undefined ? match[4] ?? '' : match[2].replace(/\\(.)/g, '$1'));
      current = (current ?? '') + piece;
    }
    last = index + match[0].length;
  }
  if (current !== undefined) words.push(current);
  return words;
}
