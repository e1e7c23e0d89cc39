// npm run build: one self-contained file, dist/ovactl.js, for the appliance's Node 18 (and Node 20).
// CommonJS output: an ES-module entry costs ~13 ms more at start (Node's ESM loader), and ovactl runs
// at every boot. dist/package.json marks the folder as CommonJS (the repo itself is "type": "module").
import { build } from 'esbuild';
import { chmod, readFile, writeFile } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: ['src/ovactl.ts'],
  outfile: 'dist/ovactl.js',
  bundle: true,
  platform: 'node',
  target: 'node18.20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  define: { 'process.env.OVACTL_VERSION': JSON.stringify(pkg.version) },
  logLevel: 'warning',
});
await chmod('dist/ovactl.js', 0o755);
await writeFile('dist/package.json', '{ "type": "commonjs" }\n');
