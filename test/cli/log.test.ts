// The lifecycle loggers: lanes of the graph (opened, kept, reused, closed by match or withdrawal) and JSON lines.
import { attachLogger, GRAPH_LANES, graphHandlers, jsonHandlers } from '../../lib/log';
import { Netsync } from '../../lib/netsync';
import type { Selector } from '../../lib/selector/types';
import type { Group, PendingRequest } from '../../lib/stores/types';
import type { Match } from '../../lib/types';

const anySelector: Selector = { requirements: [], matches: () => true, toString: () => '' };

function request(id: string, actor: string, options: { event?: string; mates?: number } = {}): PendingRequest {
  const event = options.event ?? 'e';
  const mates = options.mates ?? 1;
  return {
    id,
    params: { event, actor, payload: null, labels: { actor }, selector: `actor != ${actor}`, mates },
    selector: anySelector,
    classKey: `${event}|${mates}|${actor}`,
    spec: { min: mates, max: mates, lingerMs: 0 },
    stages: [],
    createdAt: 0,
  };
}

function group(event: string, ...members: [id: string, actor: string][]): [Group, Match] {
  const list = members.map(([id, actor]) => ({ id, actor, payload: `p-${actor}`, labels: { actor } }));
  return [
    { event, members: list },
    { payloads: Object.fromEntries(list.map((m) => [m.actor, m.payload])), members: list.map(({ actor, payload, labels }) => ({ actor, payload, labels })) },
  ];
}

describe('graph log', () => {
  it('draws a pair as in the Go original', () => {
    const lines: string[] = [];
    const log = graphHandlers((line) => lines.push(line));
    log.pending(request('1', 'actor1'));
    log.pending(request('2', 'actor2'));
    log.match(...group('e', ['1', 'actor1'], ['2', 'actor2']));
    expect(lines).toEqual([
      '┌ [event=e actor=actor1]',
      '│┌ [event=e actor=actor2]',
      '└└ match [event=e actor=actor1] [event=e actor=actor2]',
    ]);
  });

  it('keeps other lanes open, reuses freed lanes, and marks withdrawals with their reason', () => {
    const lines: string[] = [];
    const log = graphHandlers((line) => lines.push(line));
    log.pending(request('a', 'gameMaker', { event: 'joinGame', mates: 2 }));
    log.pending(request('b', 'x'));
    log.pending(request('c', 'y'));
    log.withdrawn(request('b', 'x'), 'timeout');
    log.pending(request('d', 'z'));
    log.match(...group('e', ['c', 'y'], ['d', 'z']));
    log.withdrawn(request('a', 'gameMaker', { event: 'joinGame', mates: 2 }), 'aborted');
    expect(lines).toEqual([
      '┌ [event=joinGame actor=gameMaker mates=2]',
      '│┌ [event=e actor=x]',
      '││┌ [event=e actor=y]',
      '│└│ withdrawn (timeout) [event=e actor=x]',
      '│┌│ [event=e actor=z]',
      '│└└ match [event=e actor=y] [event=e actor=z]',
      '└ withdrawn (aborted) [event=joinGame actor=gameMaker mates=2]',
    ]);
  });

  it('lists members of other instances without lanes, and marks lane-less lines', () => {
    const lines: string[] = [];
    const log = graphHandlers((line) => lines.push(line));
    log.pending(request('1', 'local'));
    log.match(...group('e', ['remote-1', 'remote'], ['1', 'local']));
    log.match(...group('solo', ['2', 'alone']));
    log.withdrawn(request('3', 'early'), 'closed');
    expect(lines).toEqual([
      '┌ [event=e actor=local]',
      '└ match [event=e actor=remote] [event=e actor=local]',
      '─ match [event=solo actor=alone]',
      '─ withdrawn (closed) [event=e actor=early]',
    ]);
  });

  it('past its width, lets further requests share an overflow lane drawn ┆', () => {
    const lines: string[] = [];
    const log = graphHandlers((line) => lines.push(line), 2);
    for (const id of ['1', '2', '3', '4']) log.pending(request(id, `actor${id}`));
    log.withdrawn(request('2', 'actor2'), 'timeout');
    log.pending(request('5', 'actor5'));
    log.match(...group('e', ['3', 'actor3'], ['5', 'actor5']));
    log.lingering([request('4', 'actor4')], { event: 'e', spec: { min: 1, max: 2, lingerMs: 100 }, ids: ['4'], deadline: 0 });
    log.withdrawn(request('4', 'actor4'), 'disconnected');
    log.withdrawn(request('1', 'actor1'), 'closed');
    expect(lines).toEqual([
      '┌ [event=e actor=actor1]',
      '│┌ [event=e actor=actor2]',
      '││┌ [event=e actor=actor3]',
      '││┌ [event=e actor=actor4]',
      '│└┆ withdrawn (timeout) [event=e actor=actor2]',
      '│┌┆ [event=e actor=actor5]',
      '│└└ match [event=e actor=actor3] [event=e actor=actor5]',
      '│ ├ lingering 100ms for mates=1..2 [event=e actor=actor4]',
      '│ └ withdrawn (disconnected) [event=e actor=actor4]',
      '└ withdrawn (closed) [event=e actor=actor1]',
    ]);
  });

  it('draws no more than GRAPH_LANES lanes however many requests wait', () => {
    const lines: string[] = [];
    const log = graphHandlers((line) => lines.push(line));
    const waiting = 10_000;
    for (let i = 0; i < waiting; i++) log.pending(request(String(i), `actor${i}`));
    log.match(...group('e', ['0', 'actor0'], [String(waiting - 1), `actor${waiting - 1}`]));
    // No lane is free in between, so a prefix runs up to the first blank.
    const prefixes = lines.map((line) => line.slice(0, line.indexOf(' ')));
    expect(Math.max(...prefixes.map((p) => p.length))).toBe(GRAPH_LANES + 1);
    expect(prefixes[GRAPH_LANES - 1]).toBe(`${'│'.repeat(GRAPH_LANES - 1)}┌`);
    expect(prefixes[waiting - 1]).toBe(`${'│'.repeat(GRAPH_LANES)}┌`);
    expect(prefixes[waiting]).toBe(`└${'│'.repeat(GRAPH_LANES - 1)}└`);
  });
});

describe('json log', () => {
  it('prints one object per line with type, time and event', () => {
    const lines: string[] = [];
    const log = jsonHandlers((line) => lines.push(line), () => new Date('2020-01-09T20:00:44.676Z'));
    log.pending(request('1', 'actor1'));
    log.match(...group('e', ['1', 'actor1'], ['2', 'actor2']));
    log.withdrawn(request('3', 'actor3'), 'timeout');
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { type: 'pending', time: '2020-01-09T20:00:44.676Z', event: 'e', id: '1', actor: 'actor1', mates: 1, labels: { actor: 'actor1' }, selector: 'actor != actor1' },
      {
        type: 'match', time: '2020-01-09T20:00:44.676Z', event: 'e',
        members: [{ id: '1', actor: 'actor1', labels: { actor: 'actor1' } }, { id: '2', actor: 'actor2', labels: { actor: 'actor2' } }],
      },
      { type: 'withdrawn', time: '2020-01-09T20:00:44.676Z', event: 'e', id: '3', actor: 'actor3', mates: 1, reason: 'timeout' },
    ]);
  });
});

describe('attachLogger', () => {
  it('follows the hub events until stopped', async () => {
    const hub = new Netsync();
    const count = (): number => hub.listenerCount('pending') + hub.listenerCount('match') + hub.listenerCount('withdrawn');
    const before = count();
    const lines: string[] = [];
    const stop = attachLogger(hub, { format: 'graph', write: (line) => lines.push(line) });
    hub.emit('pending', request('1', 'actor1'));
    hub.emit('withdrawn', request('1', 'actor1'), 'aborted');
    stop();
    hub.emit('pending', request('2', 'actor2'));
    expect(lines).toEqual(['┌ [event=e actor=actor1]', '└ withdrawn (aborted) [event=e actor=actor1]']);
    expect(count()).toBe(before);
    await hub.close();
  });

  it('adds no listener when off', async () => {
    const hub = new Netsync();
    const before = hub.listenerCount('pending') + hub.listenerCount('match') + hub.listenerCount('withdrawn');
    attachLogger(hub, 'off');
    expect(hub.listenerCount('pending') + hub.listenerCount('match') + hub.listenerCount('withdrawn')).toBe(before);
    await hub.close();
  });
});
