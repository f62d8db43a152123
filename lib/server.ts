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
  //
  // Each holds sixteen `this.` assignments that never run. V8 sizes the objects a constructor makes by the
  // assignments its source holds, and these hold none of Node's own (they run inside Reflect.apply): without
  // them Node's fields fill the object, the fields Express adds go to a side store, and Express's router adds
  // one of them by a computed key (`req[matchedRoute]`), which past a dozen side fields turns the object into
  // a hash table. A request passing through an `app.use` layer or a mounted router (every netsync request)
  // then held about 1.4 KB more while it waited, and so did every response (BENCHMARKS.md).
  function AppRequest(this: IncomingMessage & RoomForFields, socket: unknown): void {
    Reflect.apply(base.IncomingMessage, this, [socket]);
    if (socket === NEVER) {
      this.f0 = this.f1 = this.f2 = this.f3 = this.f4 = this.f5 = this.f6 = this.f7 = undefined;
      this.f8 = this.f9 = this.f10 = this.f11 = this.f12 = this.f13 = this.f14 = this.f15 = undefined;
    }
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: ServerResponse & RoomForFields, req: unknown, options: unknown): void {
    Reflect.apply(base.ServerResponse, this, [req, options]);
    if (req === NEVER) {
      this.f0 = this.f1 = this.f2 = this.f3 = this.f4 = this.f5 = this.f6 = this.f7 = undefined;
      this.f8 = this.f9 = this.f10 = this.f11 = this.f12 = this.f13 = this.f14 = this.f15 = undefined;
    }
  }
  AppResponse.prototype = app.response;
  return {
    IncomingMessage: AppRequest as unknown as typeof IncomingMessage,
    ServerResponse: AppResponse as unknown as typeof ServerResponse,
  };
}

/** Never an argument Node passes: the branches it guards exist only to be read by V8 (see serverOptionsFrom). */
const NEVER: unique symbol = Symbol('never passed');

/** The fields those branches name; no object ever gets them. */
interface RoomForFields {
  f0?: undefined; f1?: undefined; f2?: undefined; f3?: undefined; f4?: undefined; f5?: undefined; f6?: undefined; f7?: undefined;
  f8?: undefined; f9?: undefined; f10?: undefined; f11?: undefined; f12?: undefined; f13?: undefined; f14?: undefined; f15?: undefined;
}

function isClass(constructor: unknown): boolean {
  return typeof constructor === 'function' && /^class\b/.test(Function.prototype.toString.call(constructor));
}
