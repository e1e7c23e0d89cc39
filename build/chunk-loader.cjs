// Compiles one of the bundle's lazy chunks (see bundle.mjs) on first use. With a V8 code cache beside
// the bundle — code-cache/NAME-HASH.v8, written by a run with OVACTL_WRITE_CODE_CACHE=1 (the image
// recipe does that with the image's own Node) — V8 takes the chunk's compiled functions from the
// cache instead of parsing and compiling them again at every start. A cache from another Node or
// V8 version is rejected by V8 itself and the chunk compiles as it would without one. The folder is
// root's (the bundle's): nobody else can hand ovactl compiled code.
'use strict';
const { Script } = require('node:vm');
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

module.exports = function loadChunk(name, hash, source, req) {
  const file = join(__dirname, 'code-cache', `${name}-${hash}.v8`);
  let cachedData;
  try {
    cachedData = readFileSync(file);
  } catch {
    // no cache: compile from source
  }
  const script = new Script(`(function (module, exports, require) {${source}\n})`, { filename: `ovactl:${name}`, ...(cachedData ? { cachedData } : {}) });
  const m = { exports: {} };
  script.runInThisContext()(m, m.exports, req);
  if (process.env.OVACTL_WRITE_CODE_CACHE === '1' && (!cachedData || script.cachedDataRejected)) {
    // At exit: the cache then holds every function this run compiled, not just the top level.
    process.once('exit', () => {
      try {
        mkdirSync(join(__dirname, 'code-cache'), { recursive: true });
        writeFileSync(`${file}.tmp`, script.createCachedData(), { mode: 0o644 });
        renameSync(`${file}.tmp`, file);
      } catch (e) {
        process.stderr.write(`ovactl: cannot write the code cache ${file}: ${e.message}\n`);
      }
    });
  }
  return m.exports;
};
