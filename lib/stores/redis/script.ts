// Running the store's Lua scripts: EVALSHA first, EVAL when Redis lost its script cache.
import { createHash } from 'node:crypto';
import type { RedisClientLike } from './client';

/** A Lua script with its SHA1, as Redis caches it. */
export class LuaScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

/** A command that got no answer in time (the connection may still deliver it later). */
export class CommandTimeoutError extends Error {
  override readonly name = 'CommandTimeoutError';
}

/** Run `script` by SHA, falling back to the source after a restart or SCRIPT FLUSH. */
export function runScript(client: RedisClientLike, script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
  const options = { keys, arguments: args };
  return client.evalSha(script.sha, options).catch((err: unknown) => {
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return client.eval(script.source, options);
    throw err;
  });
}

/** `promise`, or a CommandTimeoutError after `ms` (an own timeout: a client's offline queue may hold commands forever). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new CommandTimeoutError(`no answer from Redis within ${ms}ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An error answered by Redis itself: the connection is fine, and the command was refused or failed. */
export function isRedisReply(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof CommandTimeoutError) return false;
  const kind = err.constructor.name;
  return kind === 'ErrorReply' || kind === 'ReplyError' || kind === 'SimpleError' || kind === 'BlobError';
}
