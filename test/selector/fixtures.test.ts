// The shared Kubernetes conformance vectors: validity, canonical string and matching.
import fixtures from '../fixtures/k8s-selectors.json';
import { parseSelector, SelectorError } from '../../lib/selector';

interface ParseCase { input: string; valid: boolean; canonical?: string }
interface MatchCase { selector: string; labels: Record<string, string>; matches: boolean }

const parseCases = (fixtures.parse as ParseCase[]).map((c) => [JSON.stringify(c.input), c] as const);
const matchCases = (fixtures.match as MatchCase[]).map((c) => [JSON.stringify(c.selector), JSON.stringify(c.labels), c] as const);

describe('Kubernetes selector vectors', () => {
  it.each(parseCases)('parses %s as Kubernetes does', (_name, c) => {
    if (c.valid) {
      expect(parseSelector(c.input).toString()).toBe(c.canonical);
    } else {
      expect(() => parseSelector(c.input)).toThrow(SelectorError);
    }
  });

  it.each(matchCases)('%s against %s', (_selector, _labels, c) => {
    expect(parseSelector(c.selector).matches(c.labels)).toBe(c.matches);
  });

  it('matches the same with null-prototype labels', () => {
    for (const c of fixtures.match as MatchCase[]) {
      const labels = Object.assign(Object.create(null) as Record<string, string>, c.labels);
      expect(parseSelector(c.selector).matches(labels)).toBe(c.matches);
    }
  });
});
