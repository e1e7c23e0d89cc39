// The layers of src/, checked by `npx depcruise src` in the test command (test/run.sh). Lower layers
// never import higher ones; no file imports itself through others. Where a new module goes:
// docs/architecture.md.
//   core, net, render      generic: results, quoting, atomic files, addresses, templates
//   properties, appliance  the property table; the appliance's facts (NICs, paths, hardware, the API)
//   source                 reading the OVF environment and deploy values
//   validate               findings over the values (pure)
//   haproxy, pure halves   haproxy.cfg text; RHI rules, settings, bird.conf text, health, the loader;
//                          AnyIP's ranges file and route diff
//   plan                   values + facts -> files and actions (pure)
//   live (rules pure; facts, watch runtime): the appliance's live state after boot
//   ha (settings, keepalived, sync, decide, state pure; daemon, client, storage runtime): two appliances
//   tls, anyip, routetables, rhi (daemon), apply, doctor   the runtime: the only code that changes the system
//   docs, ovf              generated documents
//   cli                    commands
// The pure halves of the runtime folders: text in, values out; the daemons and commands beside them
// do the I/O.
const PURE_HALVES =
  '^src/rhi/(rules|settings|bird|auto|health|load)\\.ts$|^src/anyip/(ranges-file|diff)\\.ts$|^src/live/rules\\.ts$|' +
  '^src/ha/(settings|keepalived|sync|decide|state)\\.ts$';
const RUNTIME =
  '^src/(apply|tls|routetables|doctor|cli)/|^src/anyip/(converge|routes|watch)\\.ts$|' +
  '^src/rhi/(daemon|sockets|status)\\.ts$|^src/live/(facts|watch)\\.ts$|^src/net/(iproute|dad)\\.ts$|^src/metrics/prom\\.ts$|' +
  '^src/ha/(daemon|client|storage)\\.ts$';

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
      comment: 'validate and plan (and haproxy text and the pure halves) import no runtime code.',
      from: { path: `^src/(validate|plan|haproxy)/|${PURE_HALVES}` },
      to: { path: RUNTIME },
    },
    {
      name: 'pure-core-no-io', severity: 'error',
      comment: 'validate, plan and the pure halves read no files and run no commands: the shell gathers facts.',
      from: { path: `^src/(validate|plan|haproxy)/|${PURE_HALVES}` },
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
