// Bodies in UTF-8 must be valid UTF-8: decoding would turn bad bytes into U+FFFD, so two different texts could read alike.
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * body-parser's `verify` hook for the router's body reader: refuses a body whose charset is UTF-8 (the
 * default) but whose bytes are not. Other charsets are decoded as declared. body-parser reports the error
 * by its `type`, which the router answers as `bad_request`.
 */
export function verifyUtf8(_req: IncomingMessage, _res: ServerResponse, body: Buffer, encoding: string | null): void {
  if (encoding !== null && /^utf-?8$/i.test(encoding) && !isUtf8(body)) {
    throw Object.assign(new Error('it is not valid UTF-8'), { type: 'netsync.invalid_utf8' });
  }
}
