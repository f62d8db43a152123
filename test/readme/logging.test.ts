// The README's lane-graph sample is what the graph logger prints for the sequence the README describes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attachLogger } from '../../lib/log';
import { Netsync } from '../../lib/netsync';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

it('prints the README graph sample for a pair and a game maker that timed out', async () => {
  const sample = /<!-- log: graph -->\s*```\n([\s\S]*?)```/.exec(README)?.[1];
  expect(sample).toBeDefined();
  const hub = new Netsync();
  const lines: string[] = [];
  attachLogger(hub, { format: 'graph', write: (line) => lines.push(line) });

  const first = hub.send({ event: 'e', actor: 'actor1', payload: 'p1' });
  await hub.send({ event: 'e', actor: 'actor2', payload: 'p2' });
  await first;
  const gameMaker = hub.send({ event: 'joinGame', actor: 'gameMaker', payload: 'gameid=123', mates: 2 }, { timeoutMs: 20 });
  await expect(gameMaker).rejects.toMatchObject({ code: 'timeout' });
  await hub.close();

  expect(lines).toEqual((sample ?? '').trimEnd().split('\n'));
});

it('prints the README graph sample for two lobby players who linger', async () => {
  const sample = /<!-- log: graph-lobby -->\s*```\n([\s\S]*?)```/.exec(README)?.[1];
  expect(sample).toBeDefined();
  const hub = new Netsync();
  const lines: string[] = [];
  attachLogger(hub, { format: 'graph', write: (line) => lines.push(line) });
  const players = ['ann', 'bob'].map((actor) => hub.send({ event: 'lobby', actor, mates: '1..3', linger: '100ms' }));
  await Promise.all(players);
  await hub.close();
  expect(lines).toEqual((sample ?? '').trimEnd().split('\n'));
});
