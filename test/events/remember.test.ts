// What the ingest service remembers of each workspace (the skus it knows, the identities that
// resolve) is bounded: a process that has seen millions of ids or thousands of workspaces must not
// grow without end. Forgetting is always safe: a forgotten sku is sent again, a forgotten identity
// takes the exclusive lock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { remember } from '../../src/events/ingest.ts';

describe('the ingest service remembers within bounds', () => {
  it('keeps what it is told, per workspace', () => {
    const memory = new Map<string, Set<string>>();
    remember(memory, 'a', ['1', '2'], 10);
    remember(memory, 'a', ['2', '3'], 10);
    remember(memory, 'b', ['x'], 10);
    assert.deepEqual([...memory.get('a')!].sort(), ['1', '2', '3']);
    assert.deepEqual([...memory.get('b')!], ['x']);
  });

  it("forgets a workspace's set once it has grown past its limit, and starts it afresh", () => {
    const memory = new Map<string, Set<string>>();
    remember(memory, 'a', Array.from({ length: 11 }, (_, i) => `id-${i}`), 10);
    assert.equal(memory.get('a')!.size, 11, 'a set may pass its limit by what one call brings');
    remember(memory, 'a', ['next'], 10);
    assert.deepEqual([...memory.get('a')!], ['next']);
  });

  it('forgets every workspace once it knows a thousand, before adding a new one', () => {
    const memory = new Map<string, Set<string>>();
    for (let w = 0; w < 1000; w++) remember(memory, `ws-${w}`, ['v'], 10);
    assert.equal(memory.size, 1000);
    remember(memory, 'ws-0', ['w'], 10); // a known workspace: nothing is forgotten
    assert.equal(memory.size, 1000);
    remember(memory, 'ws-new', ['v'], 10);
    assert.deepEqual([...memory.keys()], ['ws-new']);
  });
});
