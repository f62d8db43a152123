// What the lobby asks netsync for: the request of a player, its widening stages, and the stage at a given age.
// No DOM here, so the rules of the lobby read in one place.

/** Levels players may pick. */
export const LEVELS = { min: 1, max: 10 };

/** How far a player's level range reaches at the middle stage. */
const SPREAD = 2;

/** The stages of a wait, in order: what each one is called on the page. */
export const STAGE_NAMES = ['same level', '±2', 'anyone'];

/** The lobby's times, as the page uses them when the query string does not say otherwise. */
export const DEFAULT_TIMES = { widen1: '10s', widen2: '30s', linger: '5s' };

/** A duration as netsync reads it (`500ms`, `10s`, `2m`), in milliseconds; undefined for anything else. */
export function durationMs(text) {
  const found = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text);
  if (found === null) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000 }[found[2]];
  return Number(found[1]) * unit;
}

/**
 * The stage and linger times: the defaults, each replaced by a valid `widen1`, `widen2` or `linger` of the
 * query string (`?widen1=200ms&widen2=400ms&linger=300ms`), so that tests and demos need not wait 30 s.
 */
export function lobbyTimes(query) {
  const times = { ...DEFAULT_TIMES };
  for (const key of Object.keys(DEFAULT_TIMES)) {
    const given = query.get(key);
    if (given !== null && durationMs(given) !== undefined) times[key] = given;
  }
  // Stages must come in order (the server refuses others): out of order, both stages keep their defaults.
  if (durationMs(times.widen2) <= durationMs(times.widen1)) Object.assign(times, { widen1: DEFAULT_TIMES.widen1, widen2: DEFAULT_TIMES.widen2 });
  return times;
}

/** The levels within `spread` of `level`, as a selector's value list: `1,2,3,4` for level 2 and spread 2. */
function levelsAround(level, spread) {
  const levels = [];
  for (let l = Math.max(LEVELS.min, level - spread); l <= Math.min(LEVELS.max, level + spread); l++) levels.push(l);
  return levels.join(',');
}

/**
 * What `NetsyncClient.send` gets for a player: the mode is the event; the level is a label; the selector
 * accepts the same level, widens to ±2 after `widen1` and to anyone after `widen2`. The payload carries the
 * player's name and level, and the game id this player would start if it came first: every member sends
 * one, and the group plays the first member's.
 */
export function requestFor({ name, level, mode, game }, times) {
  const request = {
    event: mode,
    actor: name,
    labels: { level: String(level) },
    payload: { name, level, game },
    selector: `level=${level}`,
    widen: [
      { after: times.widen1, selector: `level in (${levelsAround(level, SPREAD)})` },
      // Empty: the default selector, anyone but yourself.
      { after: times.widen2, selector: '' },
    ],
  };
  // A party is 2 to 4 players: 1 to 3 others, and once 2 are there it waits `linger` for more.
  if (mode === 'party') return { ...request, mates: { min: 1, max: 3 }, linger: times.linger };
  return { ...request, mates: 1 };
}

/** The stage (an index of STAGE_NAMES) of a request `ageMs` old. */
export function stageAt(ageMs, times) {
  if (ageMs >= durationMs(times.widen2)) return 2;
  if (ageMs >= durationMs(times.widen1)) return 1;
  return 0;
}

/** A candidate game id: random, short enough to read out. */
export function newGameId() {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return `g-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
