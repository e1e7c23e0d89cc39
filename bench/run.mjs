// npm run bench: every benchmark under bench/, one after another.
await import('./cold-start.mjs');
await import('./apply.mjs');
await import('./boot.mjs');
await import('./anyip.mjs');
await import('./rhi.mjs');
await import('./reapply.mjs');
await import('./api-rewrites.mjs');
await import('./dataplaneapi.mjs');
await import('./hostile.mjs');
await import('./metrics.mjs');
await import('./live.mjs');
await import('./ha.mjs');
