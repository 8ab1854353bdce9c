#!/usr/bin/env -S node --max-semi-space-size=16
// Tend runs its TypeScript sources directly on Node 24 (type stripping). `npx tend` and the npm
// scripts put the project's pinned Node 24 first on the PATH; another Node gets a clear message.
// --max-semi-space-size=16: V8 sizes its young generation from the machine's memory (128 MB on a
// 24 GB machine), which alone pushed a streaming import of a million rows past 300 MB; 16 MB keeps
// it near 270 MB and, with fewer cache misses, imported twice as fast.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 23 || (major === 23 && minor < 6)) {
  process.stderr.write(`Tend needs Node.js 24 (this is ${process.version}). Run it as \`npx tend …\` or through npm scripts in the project folder, which use the Node 24 installed by \`npm ci\`.\n`);
  process.exit(1);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
