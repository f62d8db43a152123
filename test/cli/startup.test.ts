// The startup line's parts: an address a user can curl, and the store without secrets.
import { describeListening, describeStore } from '../../lib/cli/startup';

describe('describeListening', () => {
  it.each([
    [{ address: '127.0.0.1', family: 'IPv4', port: 8000 }, 'http://127.0.0.1:8000'],
    [{ address: '::1', family: 'IPv6', port: 8000 }, 'http://[::1]:8000'],
    [{ address: '::', family: 'IPv6', port: 8000 }, 'http://[::]:8000 (all interfaces; try http://127.0.0.1:8000)'],
    [{ address: '0.0.0.0', family: 'IPv4', port: 9000 }, 'http://0.0.0.0:9000 (all interfaces; try http://127.0.0.1:9000)'],
  ])('%j', (address, line) => {
    expect(describeListening(address)).toBe(line);
  });
});

describe('describeStore', () => {
  it.each([
    [undefined, 'memory'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['redis://:s3cret@cache:6379', 'redis://cache:6379'],
    ['rediss://app:s3cret@cache:6380/2', 'rediss://app@cache:6380/2'],
  ])('%s', (url, shown) => {
    expect(describeStore(url)).toBe(shown);
  });
});
