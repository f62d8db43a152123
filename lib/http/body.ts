// Turns a request body (read as text by the router, or already parsed by the host) into fields.
import { errors, isNetsyncError } from '../errors';
import { expandedSize } from './expansion';
import type { Format } from './format';
import { parseUrlEncoded, type Fields } from './query';
import { checkShape } from './shape';
import { loadYaml } from './yaml';

/** Nodes any body may hold beyond one per character of its text: room for small YAML aliases, none for alias bombs. */
const NODE_ALLOWANCE = 10_000;

const YAML_TYPES: ReadonlySet<string> = new Set(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml']);

/** A body format the router decodes. */
export type BodyFormat = Format | 'form';

/** The body format a Content-Type names, or undefined for a type the router does not read. */
export function bodyFormatOf(contentType: string | undefined): BodyFormat | undefined {
  const type = (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))) return 'json';
  if (YAML_TYPES.has(type)) return 'yaml';
  if (type === 'application/x-www-form-urlencoded') return 'form';
  return undefined;
}

/** Inputs of `decodeBody`. */
export interface BodySource {
  /** `req.body` after the router's text parser: undefined, a string or Buffer, or what the host's parser made. */
  readonly body: unknown;
  readonly contentType: string | undefined;
  /** The `input` control, which wins over Content-Type. */
  readonly input: Format | undefined;
  /** Node budget for a body the host parsed (its text length is unknown). */
  readonly parsedNodeBudget: number;
  /** The body limit in bytes: no decoded body may expand past it (see ExpandedSizes). */
  readonly maxBytes: number;
}

/** The body's fields (empty for no body). Throws `bad_request` for a body that is unreadable or not a map. */
export function decodeBody(source: BodySource): Fields {
  const { body } = source;
  if (body === undefined || body === null) return emptyFields();
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    return decodeText(typeof body === 'string' ? body : body.toString('utf8'), source);
  }
  // The host's own parser (express.json(), express.urlencoded()) already made the fields.
  if (source.input !== undefined && bodyFormatOf(source.contentType) === 'form' && isNonEmptyObject(body)) {
    // The text is gone, so `?input=` cannot be honoured; a form reading of YAML would only show as an odd unknown field.
    throw errors.badRequest(
      `the app's own body parser already read this body as a form, so ?input=${source.input} cannot apply; send it with Content-Type application/${source.input}, or mount netsync before the app's form parser`,
    );
  }
  return asFields(body, source.parsedNodeBudget, source.maxBytes);
}

function decodeText(text: string, source: BodySource): Fields {
  if (text.trim() === '') return emptyFields();
  const format = source.input ?? bodyFormatOf(source.contentType);
  if (format === undefined) {
    throw errors.badRequest(
      `cannot read a body of type ${JSON.stringify(source.contentType ?? '')}; send application/json, application/yaml or a form, or say ?input=yaml|json`,
    );
  }
  if (format === 'form') {
    // curl -d sends YAML or JSON as a form; say how to fix it rather than report a field named `{event: e, ...`.
    if (/^\s*[{[]/.test(text)) {
      throw errors.badRequest('the body looks like YAML or JSON but was sent as a form; add ?input=yaml or ?input=json, or set its Content-Type');
    }
    return parseUrlEncoded(text, 'form body');
  }
  let value: unknown;
  try {
    value = format === 'json' ? JSON.parse(text) : loadYaml(text, source.maxBytes);
  } catch (error) {
    if (isNetsyncError(error)) throw error;
    throw errors.badRequest(`the body is not valid ${format === 'json' ? 'JSON' : 'YAML'}: ${firstLine(error)}`);
  }
  // An empty YAML document (only comments) is no body at all; js-yaml reads it as null, like `~`.
  if (value === undefined || (value === null && format === 'yaml' && isEmptyYamlDocument(text))) return emptyFields();
  return asFields(value, NODE_ALLOWANCE + text.length, source.maxBytes);
}

function isNonEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
}

/** Whether YAML text holds nothing but comments and document markers. */
function isEmptyYamlDocument(text: string): boolean {
  return text.split(/\r?\n/).every((line) => {
    const trimmed = line.trim();
    return trimmed === '' || trimmed.startsWith('#') || trimmed === '---' || trimmed === '...';
  });
}

function asFields(value: unknown, maxNodes: number, maxBytes: number): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw errors.badRequest('the body must be a map of fields, like {event: e, actor: a}');
  }
  const problem = checkShape(value, maxNodes);
  if (problem === 'too_many_nodes') throw errors.badRequest(`the body expands to more than ${maxNodes} values (YAML aliases?)`);
  if (problem === 'too_deep') throw errors.badRequest('the body is nested too deeply');
  // Every format, and bodies the host parsed: shared nodes (aliases) are counted each time they are used.
  if (expandedSize(value) > maxBytes) throw errors.badRequest(`the body expands to more than ${maxBytes} bytes once decoded (YAML aliases?)`);
  const fields = emptyFields();
  for (const key of Object.keys(value)) fields[key] = (value as Fields)[key];
  return fields;
}

function emptyFields(): Fields {
  return Object.create(null) as Fields;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n', 1)[0] ?? '').slice(0, 200);
}
