// The layers of src/, checked by `npx depcruise src` in the test command (test/run.sh). Lower layers
// never import higher ones; no file imports itself through others. Where a new module goes:
// docs/architecture.md.
//   core, net, render      generic: results, quoting, atomic files, addresses, templates
//   properties, appliance  the property table; the appliance's facts (NICs, paths, hardware, the API)
//   source                 reading the OVF environment and deploy values
//   validate               findings over the values (pure)
//   haproxy, rhi (pure)    haproxy.cfg text; RHI rules, settings and bird.conf text
//   plan                   values + facts -> files and actions (pure)
//   tls, anyip, routetables, rhi (daemon), apply, doctor   the runtime: the only code that changes the system
//   docs, ovf              generated documents
//   cli                    commands
const PURE_RHI = 'src/rhi/(rules|settings|bird|auto)\\.ts$';
const RUNTIME = '^src/(apply|tls|anyip|routetables|doctor|cli)/|^src/rhi/(daemon|health|sockets|status)\\.ts$|^src/net/(iproute|dad)\\.ts$';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'A cycle makes every module in it depend on all the others.', from: {}, to: { circular: true } },
    {
      name: 'generic-is-generic', severity: 'error',
      comment: 'core, net and render know nothing of the appliance, its values or its plan.',
      from: { path: '^src/(core|net|render)/' },
      to: { path: '^src/', pathNot: '^src/(core|net|render)/' },
    },
    {
      name: 'facts-below-logic', severity: 'error',
      comment: 'The property table, the appliance facts and the sources sit below validation and planning.',
      from: { path: '^src/(properties|appliance|source)/' },
      to: { path: '^src/(validate|plan|haproxy|rhi|tls|anyip|routetables|apply|doctor|docs|ovf|cli)/' },
    },
    {
      name: 'pure-core-stays-pure', severity: 'error',
      comment: 'validate and plan (and the pure RHI and haproxy text) import no runtime code.',
      from: { path: `^src/(validate|plan|haproxy)/|${PURE_RHI}` },
      to: { path: RUNTIME },
    },
    {
      name: 'pure-core-no-io', severity: 'error',
      comment: 'validate and plan read no files and run no commands: the shell gathers facts for them.',
      from: { path: '^src/(validate|plan|haproxy)/' },
      to: { dependencyTypes: ['core'], path: '^(node:)?(fs|fs/promises|child_process|net|dgram|http|https)$' },
    },
    {
      name: 'nobody-imports-the-cli', severity: 'error',
      comment: 'Commands are the top: nothing below may depend on how the CLI prints.',
      from: { path: '^src/', pathNot: '^src/(cli/|ovactl\\.ts$)' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'runtime-not-doctor', severity: 'error',
      comment: 'doctor reads what the runtime made; the runtime never needs doctor.',
      from: { path: '^src/(apply|tls|anyip|routetables|rhi)/' },
      to: { path: '^src/doctor/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
