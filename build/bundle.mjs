// npm run build: one self-contained file, dist/ovactl.js, for the appliance's Node 18 (and Node 20).
import { build } from 'esbuild';
import { chmod, readFile } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: ['src/ovactl.ts'],
  outfile: 'dist/ovactl.js',
  bundle: true,
  platform: 'node',
  target: 'node18.20',
  format: 'esm',
  minify: true,
  legalComments: 'none',
  banner: {
    // Some bundled CommonJS modules call require(); give ESM a real one.
    js: "#!/usr/bin/env node\nimport { createRequire as __ovactlRequire } from 'node:module'; const require = __ovactlRequire(import.meta.url);",
  },
  define: { 'process.env.OVACTL_VERSION': JSON.stringify(pkg.version) },
  logLevel: 'warning',
});
await chmod('dist/ovactl.js', 0o755);
