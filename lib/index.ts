// The public API of netsync; everything a consumer imports comes from here.
import { netsync } from './router';

export { netsync };
export default netsync;
export type { NetsyncRouterOptions, NetsyncRouter } from './router';
export type { StatsOption, RedactedStatsTree, RedactedStatsEntry } from './http/stats';
export { expressServerOptions } from './server';
export type { ExpressPrototypes } from './server';
export { attachLogger } from './log';
export type { LogFormat, LogOption } from './log';

export { Netsync } from './netsync';
export type { NetsyncOptions, SendOptions, NetsyncEvents, WithdrawReason } from './netsync';
export { normalizeParams } from './params';
export type { NormalizedRequest } from './params';

export { netsyncMetrics } from './metrics';
export type { NetsyncMetrics, NetsyncMetricsOptions, RequestOutcome } from './metrics';

export { MemoryStore } from './stores/memory';
export type { MemoryStoreOptions, StoreClock } from './stores/memory';
export { RedisStore } from './stores/redis';
export type { RedisStoreOptions, RedisClientLike } from './stores/redis';
export type { ClusterNodeLike, RedisClusterLike } from './stores/redis';
export type {
  MatcherStore, PendingRequest, PendingSnapshot, Group, GroupMember, MatchListener, LostListener,
  GroupSpec, Stage, StageChange, LingerWindow, WindowListener,
} from './stores/types';
export { specKeyOf } from './stores/matching';

export {
  parseSelector, parseLabels, validateLabels, selectorOf, isValidLabelKey, isValidLabelValue, SelectorError,
} from './selector';
export type { Selector, Requirement, Operator, Labels } from './selector';

export { NetsyncError, ERROR_STATUS, CLIENT_ERROR_STATUS, errors, isNetsyncError } from './errors';
export type { ErrorCode, ServerErrorCode } from './errors';
export type {
  JsonValue, SendParams, RequestParams, Member, Match, StatsEntry, StatsTree, MatesRange, WidenStage, WidenStageParams,
} from './types';
