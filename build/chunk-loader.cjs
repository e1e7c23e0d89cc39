// Compiles one of the bundle's lazy chunks (see bundle.mjs) on first use. With a V8 code cache beside
// the bundle — code-cache/NAME-HASH.v8, written by a run with OVACTL_WRITE_CODE_CACHE=1 (the image
// recipe does that with the image's own Node) — V8 takes the chunk's compiled functions from the
// cache instead of parsing and compiling them again at every start. A cache from another Node or
// V8 version is rejected by V8 itself and the chunk compiles as it would without one.
// The file starts with a SHA-256 of the rest (V8 checks its header, not every byte of the code: a
// damaged cache must not reach it) and is used only when it belongs to the bundle's owner and nobody
// else may write it: nobody else can hand ovactl compiled code.
'use strict';
const { Script } = require('node:vm');
const { createHash } = require('node:crypto');
const {
  chmodSync,
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} = require('node:fs');
const { join } = require('node:path');

const DIGEST = 32;
const sha256 = (b) => createHash('sha256').update(b).digest();

/** The cache's V8 data, or undefined when there is none or it is not to be trusted. */
function readCache(file) {
  let fd;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (st.uid !== statSync(__filename).uid || (st.mode & 0o022) !== 0) return undefined;
    const all = readFileSync(fd);
    if (all.length <= DIGEST) return undefined;
    const data = all.subarray(DIGEST);
    return sha256(data).equals(all.subarray(0, DIGEST)) ? data : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

module.exports = function loadChunk(name, hash, source, req) {
  const dir = join(__dirname, 'code-cache');
  const file = join(dir, `${name}-${hash}.v8`);
  const cachedData = readCache(file);
  const script = new Script(`(function (module, exports, require) {${source}\n})`, {
    filename: `ovactl:${name}`,
    ...(cachedData ? { cachedData } : {}),
  });
  const m = { exports: {} };
  script.runInThisContext()(m, m.exports, req);
  if (process.env.OVACTL_WRITE_CODE_CACHE === '1' && (!cachedData || script.cachedDataRejected)) {
    // At exit: the cache then holds every function this run compiled, not just the top level.
    process.once('exit', () => {
      try {
        mkdirSync(dir, { recursive: true, mode: 0o755 });
        chmodSync(dir, 0o755);
        const data = script.createCachedData();
        writeFileSync(`${file}.tmp`, Buffer.concat([sha256(data), data]), { mode: 0o644 });
        chmodSync(`${file}.tmp`, 0o644); // whatever the umask
        renameSync(`${file}.tmp`, file);
      } catch (e) {
        process.stderr.write(`ovactl: cannot write the code cache ${file}: ${e.message}\n`);
      }
    });
  }
  return m.exports;
};
