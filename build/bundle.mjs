// npm run build: one self-contained file, dist/ovactl.js, for the appliance's Node 18 (and Node 20).
// CommonJS output: an ES-module entry costs ~13 ms more at start (Node's ESM loader), and ovactl runs
// at every boot. dist/package.json marks the folder as CommonJS (the repo itself is "type": "module").
import { build } from 'esbuild';
import { chmod, readFile, writeFile } from 'node:fs/promises';

// sax requires node:stream at load time for its SAXStream class, which xml2js never uses; node:stream
// costs ~4 ms of start-up. Give sax (only sax) an empty stand-in: it falls back to a plain function.
const saxWithoutStream = {
  name: 'sax-without-stream',
  setup(b) {
    b.onResolve({ filter: /^stream$/ }, (args) => (/[\\/]sax[\\/]/.test(args.importer) ? { path: 'stream', namespace: 'no-stream' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'no-stream' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

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
  plugins: [saxWithoutStream],
  logLevel: 'warning',
});
await chmod('dist/ovactl.js', 0o755);
await writeFile('dist/package.json', '{ "type": "commonjs" }\n');
