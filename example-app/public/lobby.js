// The lobby page: sends a player's request through netsync/client, shows the wait and its stage, the roster
// of the match, and who is waiting now. See index.html for what the lobby does and the query parameters.
/* global document, location */
import { NetsyncClient, isNetsyncError } from 'netsync/client';
import { STAGE_NAMES, lobbyTimes, newGameId, requestFor, stageAt } from './matchmaking.js';

/** How often the elapsed time and stage are redrawn, and how often "Waiting now" asks /sync/stats. */
const TICK_MS = 100;
const STATS_EVERY_MS = 1000;
const MODES = { duel: 'Duel', party: 'Party' };
/** The live panel's list of each mode, named apart from the mode's radio button. */
const LIST_NAMES = { duel: 'Waiting for a duel', party: 'Waiting for a party' };

const client = new NetsyncClient('/sync');
const times = lobbyTimes(new URLSearchParams(location.search));
const $ = (id) => document.getElementById(id);
const ui = {
  form: $('find'),
  name: $('name'),
  level: $('level'),
  find: $('find-button'),
  cancel: $('cancel-button'),
  message: $('message'),
  progress: $('progress'),
  elapsed: $('elapsed'),
  stage: $('stage'),
  candidate: $('candidate'),
  match: $('match'),
  game: $('game'),
  roster: $('roster'),
  waiting: $('waiting-lists'),
  partyHint: $('party-hint'),
};

/** The wait in progress: its AbortController, when it started, and the timer that redraws it. */
let wait;
/** The next refresh of "Waiting now", and whether one is under way. */
let statsTimer;
let statsBusy = false;

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (wait === undefined) void findMatch();
});
ui.cancel.addEventListener('click', () => wait?.controller.abort());
ui.partyHint.textContent = `2–4 players, waits ${times.linger.replace(/(\d)([a-z])/, '$1 $2')} for more`;
ui.find.disabled = false;
void refreshWaiting();

async function findMatch() {
  const player = {
    name: ui.name.value.trim(),
    level: Number(ui.level.value),
    mode: new FormData(ui.form).get('mode'),
    game: newGameId(),
  };
  if (player.name === '') {
    say('Type a name first.');
    return;
  }
  wait = { controller: new AbortController(), started: performance.now(), timer: setInterval(drawProgress, TICK_MS) };
  ui.match.hidden = true;
  ui.candidate.textContent = player.game;
  setWaiting(true);
  say(`Looking for a ${player.mode === 'party' ? 'party' : 'duel'}…`);
  drawProgress();
  try {
    const match = await client.send(requestFor(player, times), { signal: wait.controller.signal });
    showMatch(match);
    say('Matched.');
  } catch (error) {
    say(failure(error, wait.controller.signal.aborted));
  } finally {
    clearInterval(wait.timer);
    wait = undefined;
    setWaiting(false);
    void refreshWaiting();
  }
}

/** What to tell the player when the wait ended without a match. */
function failure(error, cancelled) {
  if (cancelled) return 'Cancelled.';
  if (!isNetsyncError(error)) return `Something went wrong: ${String(error)}`;
  if (error.code === 'timeout') return 'Nobody matched in time. Try again, or try another mode.';
  if (error.code === 'shutting_down') return 'The lobby is closing. Try again in a moment.';
  if (error.code === 'unreachable') return 'The lobby server does not answer. Try again in a moment.';
  return `The lobby refused: ${error.message}`;
}

function setWaiting(waiting) {
  ui.find.disabled = waiting;
  ui.cancel.disabled = !waiting;
  ui.progress.hidden = !waiting;
  for (const input of ui.form.querySelectorAll('input')) input.disabled = waiting;
}

function say(text) {
  ui.message.textContent = text;
}

/** The elapsed time and the stage, by this page's clock (the server's starts a little later, never earlier). */
function drawProgress() {
  if (wait === undefined) return;
  const age = performance.now() - wait.started;
  ui.elapsed.textContent = `${(age / 1000).toFixed(1)} s`;
  ui.stage.textContent = STAGE_NAMES[stageAt(age, times)];
}

/** The roster: every member in arrival order, and the game of the first one (every page shows the same). */
function showMatch(match) {
  const first = match.members[0]?.payload;
  ui.game.textContent = typeof first?.game === 'string' ? first.game : '(none)';
  ui.roster.replaceChildren(
    ...match.members.map((member) => {
      const item = document.createElement('li');
      item.textContent = playerLine(member.actor, member.labels.level, member.stage);
      return item;
    }),
  );
  ui.match.hidden = false;
}

/** `Ann · level 4 · ±2`: a player, and the stage the server says its request is at (or met at). */
function playerLine(actor, level, stage) {
  const line = `${actor} · level ${level ?? '?'}`;
  return stage === undefined ? line : `${line} · ${STAGE_NAMES[stage] ?? `stage ${stage}`}`;
}

/**
 * "Waiting now": who waits per mode, oldest first, from the redacted /sync/stats; again in a second. Called
 * early too, when this page's own wait starts or ends; a refresh under way already schedules the next one.
 */
async function refreshWaiting() {
  clearTimeout(statsTimer);
  if (statsBusy) return;
  statsBusy = true;
  try {
    drawWaiting(await client.stats());
  } catch (error) {
    const note = document.createElement('p');
    note.className = 'hint';
    note.textContent = `Cannot read the lobby: ${isNetsyncError(error) ? error.message : String(error)}`;
    ui.waiting.replaceChildren(note);
  } finally {
    statsBusy = false;
    statsTimer = setTimeout(refreshWaiting, STATS_EVERY_MS);
  }
}

function drawWaiting(tree) {
  const parts = [];
  for (const [event, title] of Object.entries(MODES)) {
    const entries = Object.values(tree[event] ?? {}).flatMap((byId) => Object.values(byId));
    entries.sort((a, b) => a.created_at.localeCompare(b.created_at));
    const heading = document.createElement('h3');
    heading.textContent = `${title} (${entries.length})`;
    const list = document.createElement('ul');
    list.setAttribute('aria-label', LIST_NAMES[event]);
    for (const { params, stage } of entries) {
      const item = document.createElement('li');
      item.textContent = playerLine(params.actor, params.labels.level, stage);
      list.append(item);
    }
    if (entries.length === 0) {
      const item = document.createElement('li');
      item.className = 'hint';
      item.textContent = 'nobody';
      list.append(item);
    }
    parts.push(heading, list);
  }
  ui.waiting.replaceChildren(...parts);
}
