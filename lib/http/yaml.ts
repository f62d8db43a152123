// YAML in and out: a loader limited to plain data (no dates, merge keys or tags), and the dumper for `output=yaml`.
import { CORE_SCHEMA, dump, load } from 'js-yaml';

/** Plain YAML data only: CORE_SCHEMA keeps timestamps as strings and has no merge keys or custom tags. */
export function loadYaml(text: string): unknown {
  return load(text, { schema: CORE_SCHEMA });
}

/**
 * YAML text for a JSON-compatible value; no anchors, no folded lines, so any YAML reader gets the same data.
 * Written with js-yaml's default schema, not CORE_SCHEMA: that quotes strings most readers would otherwise
 * take for a date (`created_at`, a `2020-01-09` payload) or a merge key (`<<`), which CORE_SCHEMA leaves bare.
 */
export function dumpYaml(value: unknown): string {
  return dump(value, { noRefs: true, lineWidth: -1 });
}
