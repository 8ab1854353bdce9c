import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileEmail, sampleContext } from '../../src/templates/index.ts';
import { rewriteEmailLinks } from '../../src/tracking/links.ts';
import { abandonedCart } from './abandoned-cart.ts';

/** CPU microseconds per call of `f`, after a warm-up. */
function cpuMicros(runs: number, f: () => void): number {
  for (let i = 0; i < 300; i++) f();
  const start = process.cpuUsage();
  for (let i = 0; i < runs; i++) f();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / runs;
}

// The send pipeline's goal is 2,000 messages a second on 2 cores: 1 ms of CPU per message for
// everything. Rendering must stay a small part of it.
test('one abandoned-cart email renders (subject, HTML, text, tracked links) in well under 0.5 ms of CPU', async (t) => {
  const email = await compileEmail(abandonedCart);
  const context = sampleContext();
  const links = { baseUrl: 'https://t.example', secret: 's3cret', workspaceId: 'w_1', messageId: 'm_1', contactId: 'c_1', utm: { source: 'tend', medium: 'email', campaign: 'abandoned-cart' } };
  const html = email.render(context).html;
  const render = cpuMicros(2000, () => email.render(context));
  const rewrite = cpuMicros(2000, () => rewriteEmailLinks(html, links));
  t.diagnostic(`render ${render.toFixed(0)} µs, link rewriting ${rewrite.toFixed(0)} µs, HTML ${html.length} bytes`);
  assert.ok(render + rewrite < 500, `render ${render.toFixed(0)} µs + rewrite ${rewrite.toFixed(0)} µs`);
});
