// npm run build: one self-contained file, dist/ovactl.js, for the appliance's Node 18 (and Node 20).
// CommonJS output: an ES-module entry costs ~13 ms more at start (Node's ESM loader), and ovactl runs
// at every boot. dist/package.json marks the folder as CommonJS (the repo itself is "type": "module").
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// sax requires node:stream at load time for its SAXStream class, which xml2js never uses; node:stream
// costs ~4 ms of start-up. Give sax (only sax) an empty stand-in: it falls back to a plain function.
const saxWithoutStream = {
  name: 'sax-without-stream',
  setup(b) {
    b.onResolve({ filter: /^stream$/ }, (args) =>
      /[\\/]sax[\\/]/.test(args.importer) ? { path: 'stream', namespace: 'no-stream' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'no-stream' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

// src/render/templates.ts compiles templates/*.hbs from disk; in the bundle it is replaced by the
// same templates precompiled, run by handlebars' small runtime instead of its compiler.
const precompiledTemplatesOnly = (only) => ({
  name: 'precompiled-templates',
  setup(b) {
    b.onLoad({ filter: /src[\\/]render[\\/]templates\.ts$/ }, async () => {
      const { default: Handlebars } = await import('handlebars');
      const root = new URL('../templates/', import.meta.url);
      const names = (await readdir(root, { recursive: true }))
        .filter((f) => f.endsWith('.hbs') && (!only || only.test(f)))
        .sort();
      const options = { noEscape: true, strict: true };
      const specs = await Promise.all(
        names.map(
          async (f) =>
            `  ${JSON.stringify(f.slice(0, -4))}: ${Handlebars.precompile(await readFile(new URL(f, root), 'utf8'), options)},`,
        ),
      );
      return {
        loader: 'js',
        resolveDir: fileURLToPath(new URL('../src/render/', import.meta.url)),
        contents: [
          "import Handlebars from 'handlebars/runtime';",
          "import { registerHelpers } from './helpers.ts';",
          'registerHelpers(Handlebars);',
          'const specs = {',
          ...specs,
          '};',
          'const cache = new Map();',
          'export const COMPILE_OPTIONS = ' + JSON.stringify(options) + ';',
          'export function template(name) {',
          "  if (!(name in specs)) throw new Error('no template ' + name);",
          '  if (!cache.has(name)) cache.set(name, Handlebars.template(specs[name]));',
          '  return cache.get(name);',
          '}',
        ].join('\n'),
      };
    });
  },
});
const precompiledTemplates = precompiledTemplatesOnly(undefined);

// Modules that pull in heavy code (execa and handlebars' runtime for render, xml2js for XML input)
// are bundled on their own and carried inside dist/ovactl.js as a string, compiled only when they are
// first imported: V8 must at least pre-parse every function of a script, and `ovactl validate` (every
// boot, every script) should not pay for code it never calls. Still one file.
const COMMANDS = ['render', 'firstboot', 'certificates', 'ovf', 'spec', 'links', 'doctor'];
const LAZY = [
  // One chunk for the commands that act on the system, so execa and handlebars are carried once.
  ...COMMANDS.map((c) => ({
    importer: /src[\\/]cli[\\/]main\.ts$/,
    path: `./${c}-command.js`,
    chunk: 'commands',
    pick: c,
  })),
  // anyip (the anyip-routes service and its ExecStartPre/ExecStopPost) uses neither: a small chunk of
  // its own keeps its start and the watcher's memory down (bench/anyip.mjs).
  { importer: /src[\\/]cli[\\/]main\.ts$/, path: './anyip-command.js', chunk: 'anyip' },
  // rhi's daemon (ovactl-rhi.service) runs for the appliance's lifetime: its own chunk, without
  // execa and the other commands (it talks to haproxy and BIRD over their sockets).
  { importer: /src[\\/]cli[\\/]main\.ts$/, path: './rhi-command.js', chunk: 'rhi' },
  // route-tables.service also runs for the appliance's lifetime: its own chunk (policy rules and,
  // for a DHCP management NIC, the certificate code).
  { importer: /src[\\/]cli[\\/]main\.ts$/, path: './route-tables-command.js', chunk: 'route-tables' },
  // ovactl-watch.service runs for the appliance's lifetime too: its own chunk (no execa, no handlebars
  // compiler; only the console banner's template).
  { importer: /src[\\/]cli[\\/]main\.ts$/, path: './watch-command.js', chunk: 'watch' },
  // ovactl-ha.service (two appliances) too: its own chunk, without templates and the other commands.
  { importer: /src[\\/]cli[\\/]main\.ts$/, path: './ha-command.js', chunk: 'ha' },
  { importer: /src[\\/]source[\\/]detect\.ts$/, path: './ovf-env.js', chunk: 'ovf-env' },
  // The rhi.* checks and the rules parser, needed only when route health injection is on.
  { importer: /src[\\/]validate[\\/]validate\.ts$/, path: './rhi.js', chunk: 'rhi-validate' },
];
const CHUNKS = {
  commands: {
    contents: COMMANDS.map((c) => `export * as ${c} from './${c}-command.ts';`).join('\n'),
    resolveDir: 'src/cli',
  },
  anyip: { entry: 'src/cli/anyip-command.ts' },
  // The daemon renders only its route files: only BIRD's templates go in (the OVF descriptor's is big).
  rhi: { entry: 'src/cli/rhi-command.ts', templates: /^bird[\\/]/ },
  'route-tables': { entry: 'src/cli/route-tables-command.ts' },
  watch: { entry: 'src/cli/watch-command.ts', templates: /^status[\\/]/ },
  ha: { entry: 'src/cli/ha-command.ts' },
  'ovf-env': { entry: 'src/source/ovf-env.ts' },
  'rhi-validate': { entry: 'src/validate/rhi.ts' },
};
const pkgVersion = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')).version;
const common = {
  bundle: true,
  platform: 'node',
  target: 'node18.20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { 'process.env.OVACTL_VERSION': JSON.stringify(pkgVersion) },
};

async function chunk(def, plugins) {
  const input = def.entry
    ? { entryPoints: [def.entry] }
    : { stdin: { contents: def.contents, resolveDir: def.resolveDir, loader: 'ts' } };
  const r = await build({ ...common, ...input, write: false, outfile: 'chunk.js', plugins });
  return r.outputFiles[0].text;
}

const lazyModules = (chunks) => ({
  name: 'lazy-modules',
  setup(b) {
    b.onResolve({ filter: /^\.\/[a-z-]+\.js$/ }, (args) => {
      const l = LAZY.find((x) => x.path === args.path && x.importer.test(args.importer));
      return l ? { path: `${l.chunk}${l.pick ? `#${l.pick}` : ''}`, namespace: 'lazy-module' } : undefined;
    });
    b.onResolve({ filter: /^lazy-chunk:/ }, (args) => ({
      path: args.path.slice('lazy-chunk:'.length),
      namespace: 'lazy-chunk',
    }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-module' }, (args) => {
      const [name, pick] = args.path.split('#');
      return { loader: 'js', contents: `module.exports = require('lazy-chunk:${name}')${pick ? `.${pick}` : ''};` };
    });
    // Compiled once, on first use (build/chunk-loader.cjs: with a V8 code cache when there is one).
    b.onResolve({ filter: /^ovactl-chunk-loader$/ }, () => ({
      path: fileURLToPath(new URL('./chunk-loader.cjs', import.meta.url)),
    }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-chunk' }, (args) => {
      const source = chunks[args.path];
      const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
      return {
        loader: 'js',
        contents: `module.exports = require('ovactl-chunk-loader')(${JSON.stringify(args.path)}, ${JSON.stringify(hash)}, ${JSON.stringify(source)}, require);`,
      };
    });
  },
});

const plugins = [saxWithoutStream, precompiledTemplates];
const chunks = Object.fromEntries(
  await Promise.all(
    Object.entries(CHUNKS).map(async ([name, def]) => [
      name,
      await chunk(def, def.templates ? [saxWithoutStream, precompiledTemplatesOnly(def.templates)] : plugins),
    ]),
  ),
);
await build({
  ...common,
  entryPoints: ['src/ovactl.ts'],
  outfile: 'dist/ovactl.js',
  banner: { js: '#!/usr/bin/env node' },
  plugins: [...plugins, lazyModules(chunks)],
});
await chmod('dist/ovactl.js', 0o755);
await writeFile('dist/package.json', '{ "type": "commonjs" }\n');
