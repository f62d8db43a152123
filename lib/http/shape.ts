// Bounds on decoded bodies: YAML aliases share nodes, so a small body can stand for a huge (or cyclic) tree.

/** Why a decoded value was refused, or undefined when it fits. */
export type ShapeProblem = 'too_many_nodes' | 'too_deep';

/** Deepest nesting accepted in a body; payloads are messages, not documents. */
export const MAX_DEPTH = 100;

/**
 * Walks `value` as a tree (an aliased node counts each time it is reached) and stops as soon as it has
 * visited more than `maxNodes` nodes or gone deeper than `maxDepth`; cycles therefore end too.
 */
export function checkShape(value: unknown, maxNodes: number, maxDepth = MAX_DEPTH): ShapeProblem | undefined {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 0 }];
  let visited = 0;
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: unknown; depth: number };
    visited += 1;
    if (visited > maxNodes) return 'too_many_nodes';
    if (depth > maxDepth) return 'too_deep';
    if (typeof node !== 'object' || node === null) continue;
    const children: unknown[] = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) stack.push({ node: child, depth: depth + 1 });
    // Pushing children can outgrow the budget before they are visited: a shared array of a million aliases.
    if (stack.length + visited > maxNodes) return 'too_many_nodes';
  }
  return undefined;
}
