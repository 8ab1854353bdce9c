import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// A 200,000-customer, 12-month shop is about twenty million messages — far more than fit in the
// heap limit the child runs under — so finishing under it shows the generator streams. The live
// heap is measured after full garbage collections, in a child started with --expose-gc.
it('streams 200,000 customers × 12 months in bounded memory', (t) => {
  const script = fileURLToPath(new URL('./fixtures/stream-demo.ts', import.meta.url));
  const child = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=512', script, '200000', '12', '1'], {
    encoding: 'utf8',
    timeout: 540_000,
  });
  assert.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as {
    messages: number;
    orders: number;
    seconds: number;
    cpuSeconds: number;
    messagesPerSecond: number;
    peakHeapMb: number;
    rssMb: number;
  };
  t.diagnostic(
    `${result.messages} messages, ${result.orders} orders in ${result.seconds.toFixed(1)} s ` +
      `(${result.cpuSeconds.toFixed(1)} s of CPU) ` +
      `(${result.messagesPerSecond} messages/s); live heap peak ${result.peakHeapMb} MB, rss ${result.rssMb} MB`,
  );
  assert.ok(result.messages > 10_000_000, `${result.messages} messages`);
  assert.ok(result.peakHeapMb < 300, `live heap peaked at ${result.peakHeapMb} MB`);
});
