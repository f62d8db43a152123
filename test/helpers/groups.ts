// The groups several hubs report during a storm, for checking the rules on each group afterwards.
import type { Netsync } from '../../lib/netsync';
import type { Group } from '../../lib/stores/types';

/**
 * Every distinct group the hubs report, keyed by its member ids in order. A group that reaches several hubs
 * (members on several instances) must reach each of them identically.
 */
export function recordGroups(hubs: readonly Netsync[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const hub of hubs) {
    hub.on('match', (group) => {
      const key = group.members.map((m) => m.id).join(' ');
      const seen = groups.get(key);
      if (seen !== undefined) expect(group).toEqual(seen);
      groups.set(key, group);
    });
  }
  return groups;
}
