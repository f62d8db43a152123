// The README example reader: which markdown counts as an example, and how curl command lines become requests.
import { parseCommand, readExamples } from './examples';

describe('parseCommand', () => {
  it('reads a GET with a quoted URL, in the background', () => {
    expect(parseCommand("curl '0:8000/event?event=e&payload=p1&actor=actor1' &")).toEqual({
      source: "curl '0:8000/event?event=e&payload=p1&actor=actor1' &",
      method: 'GET',
      path: '/event?event=e&payload=p1&actor=actor1',
      headers: {},
      body: undefined,
      background: true,
    });
  });

  it('reads echo piped into curl -d@- as a form POST without the line break', () => {
    expect(parseCommand("echo '{event: e, actor: a}' | curl -d@- '0:8000/event?input=yaml'")).toMatchObject({
      method: 'POST',
      path: '/event?input=yaml',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '{event: e, actor: a}',
      background: false,
    });
  });

  it('reads -H and -d with an unquoted URL', () => {
    expect(parseCommand(`curl -s -H 'content-type: application/json' -d '{"event":"e"}' 0:8000/event`)).toMatchObject({
      method: 'POST',
      path: '/event',
      headers: { 'content-type': 'application/json' },
      body: '{"event":"e"}',
    });
  });

  it.each(['wget 0:8000/event', "curl -X PUT '0:8000/event'", "curl 'example.com/event'", "echo 'x' > f | curl -d@- 0:8000/e"])('rejects %s', (line) => {
    expect(() => parseCommand(line)).toThrow();
  });
});

describe('readExamples', () => {
  it('pairs each marked sh block with the next output block', () => {
    const markdown = [
      'text', '<!-- example: a -->', '```sh', "curl '0:8000/stats'", '```', 'prints', '```json', '{}', '```',
      '```sh', 'curl 0:8000/unmarked', '```',
      '<!-- example: a continued -->', '```sh', 'curl 0:8000/event?event=e', '```', '```yaml', 'x: 1', '```',
    ].join('\n');
    const examples = readExamples(markdown);
    expect(examples.map((e) => [e.name, e.commands.map((c) => c.path), e.output])).toEqual([
      ['a', ['/stats'], { language: 'json', text: '{}\n' }],
      ['a continued', ['/event?event=e'], { language: 'yaml', text: 'x: 1\n' }],
    ]);
    expect(examples[0]?.script).toBe("curl '0:8000/stats'\n");
  });

  it('records where the script sleeps', () => {
    const markdown = ['<!-- example: s -->', '```sh', 'curl 0:8000/a &', 'sleep 0.5', 'curl 0:8000/b', '```', '```json', '{}', '```'].join('\n');
    const [example] = readExamples(markdown);
    expect([example?.commands.map((c) => c.path), example?.sleepsAfter]).toEqual([['/a', '/b'], [1]]);
  });

  it('refuses a backgrounded command followed by another without a sleep (their order would be a race)', () => {
    const markdown = ['<!-- example: race -->', '```sh', 'curl 0:8000/a &', 'curl 0:8000/b', '```', '```json', '{}', '```'].join('\n');
    expect(() => readExamples(markdown)).toThrow(/race: put a sleep between/);
  });

  it('refuses an example without output', () => {
    expect(() => readExamples('<!-- example: lost -->\n```sh\ncurl 0:8000/stats\n```\n')).toThrow(/lost/);
  });
});
