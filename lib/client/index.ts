// netsync/client: the client of the HTTP API, with no server code in its import graph (no Express, YAML or Redis).
export { NetsyncClient } from './client';
export type { NetsyncClientOptions, ClientSendOptions, ClientStatsOptions, FetchLike } from './client';
export type { RetryOptions } from './retry';

export { NetsyncError, ERROR_STATUS, CLIENT_ERROR_STATUS, isNetsyncError } from '../errors';
export type { ErrorCode, ServerErrorCode } from '../errors';
export type {
  JsonValue, Labels, SendParams, RequestParams, Member, Match, StatsEntry, StatsTree,
} from '../types';
