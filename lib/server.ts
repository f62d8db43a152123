// Node server options under which an Express app no longer swaps the prototype of every request.
import { IncomingMessage, ServerResponse, type ServerOptions } from 'node:http';

/** The part of an Express application (4 or 5) the options read: the prototypes it gives requests and responses. */
export interface ExpressPrototypes {
  readonly request: object;
  readonly response: object;
}

/** The constructors Node builds requests and responses with. */
export interface MessageConstructors {
  readonly IncomingMessage: typeof IncomingMessage;
  readonly ServerResponse: typeof ServerResponse;
}

/**
 * Options for `http.createServer(expressServerOptions(app), app)`: Node then builds every request and
 * response with the app's own prototypes, so the `Object.setPrototypeOf` Express applies to each of them
 * finds nothing to change (README, serving many waiters).
 *
 * Why: an object whose prototype changed after it was built is slow to use, and in V8 its objects no
 * longer die young: minor GCs copy and promote them, and the major GCs that follow cost more the more
 * the heap holds, such as thousands of requests waiting for their mates.
 */
export function expressServerOptions(app: ExpressPrototypes): ServerOptions {
  return serverOptionsFrom(app, { IncomingMessage, ServerResponse });
}

/**
 * `expressServerOptions` over given constructors: none (Node's defaults, so Express swaps as usual) when
 * either is a `class`, which cannot initialise an object that `new` made for another constructor.
 */
export function serverOptionsFrom(app: ExpressPrototypes, base: MessageConstructors): ServerOptions {
  if (isClass(base.IncomingMessage) || isClass(base.ServerResponse)) return {};
  // Plain functions whose `prototype` is the app's: `new` makes objects with that prototype from the start.
  // (Reflect.construct with such a new.target gives the same prototype, but V8 makes far slower objects.)
  function AppRequest(this: IncomingMessage, socket: unknown): void {
    Reflect.apply(base.IncomingMessage, this, [socket]);
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: ServerResponse, req: unknown, options: unknown): void {
    Reflect.apply(base.ServerResponse, this, [req, options]);
  }
  AppResponse.prototype = app.response;
  return {
    IncomingMessage: AppRequest as unknown as typeof IncomingMessage,
    ServerResponse: AppResponse as unknown as typeof ServerResponse,
  };
}

function isClass(constructor: unknown): boolean {
  return typeof constructor === 'function' && /^class\b/.test(Function.prototype.toString.call(constructor));
}
