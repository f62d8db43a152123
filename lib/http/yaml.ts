// YAML in and out: a loader limited to plain data (no dates, merge keys or tags) whose aliases may not expand a
// body past a size, and the dumper for `output=yaml`.
import { CORE_SCHEMA, dump, load, type EventType, type State } from 'js-yaml';
import { errors } from '../errors';
import { ExpandedSizes } from './expansion';

/**
 * Plain YAML data only: CORE_SCHEMA keeps timestamps as strings and has no merge keys or custom tags.
 * `maxSize` bounds what aliases may add (see ExpandedSizes), counted while they resolve: js-yaml shares an
 * aliased node rather than copying it, but turns a key that is an aliased list into one long string at once,
 * so the count must stop a body before the loader finishes. Throws `bad_request` past it.
 */
export function loadYaml(text: string, maxSize = Number.POSITIVE_INFINITY): unknown {
  if (maxSize === Number.POSITIVE_INFINITY) return load(text, { schema: CORE_SCHEMA });
  const sizes = new ExpandedSizes();
  let aliased = 0;
  const listener = (event: EventType, state: State): void => {
    if (event !== 'close') return;
    const node: unknown = state.result;
    const { kind, tag } = state as NodeState;
    if (kind === 'sequence' || kind === 'mapping') {
      // Children close before their parent, so this measures the new node's own entries and looks the rest up.
      if (sizes.of(node) > maxSize) throw expandsPast(maxSize);
    } else if (kind === null && tag === null && node !== null && node !== undefined) {
      // An alias: its target was measured when it closed, unless the alias sits inside its own anchor.
      if (typeof node === 'object' && !sizes.has(node)) throw errors.badRequest('the body refers to itself (a YAML alias inside its own anchor)');
      aliased += sizes.of(node);
      if (aliased > maxSize) throw expandsPast(maxSize);
    }
  };
  return load(text, { schema: CORE_SCHEMA, listener });
}

/**
 * What the listener reads of a node as it closes. js-yaml's typings say `kind` is a string; it is null for a
 * node without content of its own, and only an alias has a result then without a tag (aliases take no tags).
 */
type NodeState = State & { readonly kind: string | null; readonly tag: string | null };

function expandsPast(maxSize: number): Error {
  return errors.badRequest(`the body expands to more than ${maxSize} bytes once its YAML aliases are resolved`);
}

/**
 * YAML text for a JSON-compatible value; no anchors, no folded lines, so any YAML reader gets the same data.
 * Written with js-yaml's default schema, not CORE_SCHEMA: that quotes strings most readers would otherwise
 * take for a date (`created_at`, a `2020-01-09` payload) or a merge key (`<<`), which CORE_SCHEMA leaves bare.
 */
export function dumpYaml(value: unknown): string {
  return dump(value, { noRefs: true, lineWidth: -1 });
}
