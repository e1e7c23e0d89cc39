#!/usr/bin/env node
// TEST STAND-IN of the HAProxy Data Plane API (dataplaneapi v2.9.27) — test code of ovactl, NOT the real
// program. The real binary cannot be downloaded on the development and CI machines, so the tests (and
// the VM test's image, as /usr/local/bin/dataplaneapi) use this stand-in: plain JavaScript for Node 18,
// no npm dependencies, only the openssl CLI and haproxy.
//
// What it does, modelled on dataplaneapi v2.9.27 and client-native v5.1.27 (read, not copied), and checked
// byte for byte against recordings of the real parser (test/fixtures/dataplaneapi-rewrites/):
// - `dataplaneapi -f FILE` reads the YAML configuration; unlike the real one (which ignores unknown
//   keys silently) it REFUSES any key v2.9 does not know: a key the real one ignores is a setting lost.
//   As in the real one, -c/--config-file names haproxy.cfg (overriding haproxy.config_file), not the YAML.
//   Unlike the real one, it never writes the YAML back (the real one saves it at start: name, status).
// - serves HTTPS (tls_host/tls_port, tls_certificate/tls_key) and checks HTTP Basic auth against the
//   `userlist <name>` section of userlist_file (else haproxy.cfg): $1$/$5$/$6$ crypt hashes through
//   `openssl passwd`, or insecure-password.
// - implements the /v2 subset the vSphere Supervisor uses: info, configuration version, transactions,
//   frontends, binds, backends, servers, backend switching rules, reloads; and GET configuration/raw
//   (what a standby appliance of a pair reads from the active).
// - holds haproxy.cfg as client-native's parser does: read at start (a frontend/backend gets `from` the
//   last defaults before it; an anonymous `defaults` becomes `defaults unnamed_defaults_1`), the two
//   "Dataplaneapi managed File" comment lines put first. Every save writes the whole file in the parser's
//   layout: `# _md5hash=<md5 of the rest>`, `# _version=N`, the header comments, then `global` and the
//   other sections grouped by type and sorted by name, directives in the parser's keyword order with
//   two-space indents, comments before the directive they preceded, lines no keyword parser takes at the
//   end of their section; atomically (a rename), mode 0644.
// - a transaction (explicit, or the implicit one of a change sent with ?version=) saves that model to a
//   file in transaction_dir and reads it back without named `from`; its commit raises the version, runs
//   `<haproxy_bin> -f FILE -c` and saves haproxy.cfg. Answers: 202 in a transaction; committed with
//   ?version=, 202 with a Reload-ID header (a reload scheduled), or with force_reload=true 201/200/204
//   after the reload; a commit 202 + Reload-ID, or 200 with force_reload; force_reload with a
//   transaction 400; an outdated or failed transaction's commit 406.
// - reloads (haproxy/reload_agent.go): one pending reload at a time, run by a ticker every reload_delay
//   seconds; reload_cmd split at spaces, run without a shell. Success copies haproxy.cfg to the
//   last-known-good haproxy.cfg.lkg (beside it, or in backups_dir); failure copies it back over haproxy.cfg.
// - watches haproxy.cfg's folder (inotify, unless disable_inotify): a write whose md5 line is missing or
//   stale is re-read, its version raised by one and saved in the parser's layout; a valid md5 (its own
//   saves) is ignored.
//
// What it cannot know (the real program would differ here):
// - each directive is kept as its words joined by one space; the real keyword parsers re-serialise their
//   parameters (and keep only the last of a keyword that takes one value). Servers, binds and rules the
//   API creates are written as v2.9 writes them for the fields the Supervisor sends, no others.
// - only global, defaults, frontend and backend have a keyword order; other section types keep their
//   lines in file order (the real parser orders userlist, resolvers, peers … by their own keywords). A
//   `no` line counts as its keyword's for `option …` and `log` only.
// - the watcher never reloads haproxy (the real one does when the runtime API sockets changed), and it
//   does not pause while a transaction commits.
// - backups (backups_number), the runtime API, maps, certificates and the cluster mode are not modelled.
//
// CommonJS and one self-contained file, so that a copy without an extension (installed as
// /usr/local/bin/dataplaneapi) runs on Node 18: Node reads an extensionless file as CommonJS.
'use strict';
const https = require('node:https');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const crypto = require('node:crypto');
const { execFile, spawn } = require('node:child_process');

const STANDS_IN_FOR = 'v2.9.27';
const PROG = 'dataplaneapi (stand-in)';
const MAX_BODY = 1024 * 1024;

// ---------------------------------------------------------------- configuration keys (v2.9.27)
// From configuration/configuration_storage.go and log/configuration.go of haproxytech/dataplaneapi at
// tag v2.9.27. Leaves: 'str', 'int', 'bool', 'list' (of scalars), 'any' (not checked further);
// an array [schema] is a list of maps.
const S = 'str';
const I = 'int';
const B = 'bool';
const LOG_TARGET = {
  log_to: S,
  log_file: S,
  log_level: S,
  log_format: S,
  acl_format: S,
  syslog_address: S,
  syslog_protocol: S,
  syslog_tag: S,
  syslog_level: S,
  syslog_facility: S,
  log_types: 'list',
};
const KNOWN_KEYS = {
  config_version: I,
  name: S,
  mode: S,
  bootstrap_key: S,
  status: S,
  dataplaneapi: {
    write_timeout: S,
    graceful_timeout: S,
    show_system_info: B,
    max_header_size: S,
    socket_path: S,
    debug_socket_path: S,
    host: S,
    port: I,
    listen_limit: I,
    disable_inotify: B,
    read_timeout: S,
    advertised: { api_address: S, api_port: I },
    cleanup_timeout: S,
    keep_alive: S,
    pid_file: S,
    uid: I,
    gid: I,
    tls: {
      tls_host: S,
      tls_port: I,
      tls_certificate: S,
      tls_key: S,
      tls_ca: S,
      tls_listen_limit: I,
      tls_keep_alive: S,
      tls_read_timeout: S,
      tls_write_timeout: S,
    },
    scheme: 'list',
    userlist: { userlist: S, userlist_file: S },
    transaction: { transaction_dir: S, backups_number: I, backups_dir: S, max_open_transactions: I },
    resources: {
      maps_dir: S,
      ssl_certs_dir: S,
      general_storage_dir: S,
      update_map_files: B,
      update_map_files_period: I,
      spoe_dir: S,
      spoe_transaction_dir: S,
    },
    user: [{ name: S, insecure: B, password: S }],
  },
  haproxy: {
    config_file: S,
    haproxy_bin: S,
    master_runtime: S,
    fid: S,
    master_worker_mode: B,
    reload: {
      reload_delay: I,
      reload_cmd: S,
      restart_cmd: S,
      status_cmd: S,
      service_name: S,
      reload_retention: I,
      reload_strategy: S,
      validate_cmd: S,
    },
    delayed_start_max: S,
    delayed_start_tick: S,
  },
  cluster: {
    api_nodes_path: S,
    token: S,
    cluster_tls_dir: S,
    active_bootstrap_key: S,
    api_register_path: S,
    url: S,
    port: I,
    storage_dir: S,
    bootstrap_key: S,
    id: S,
    api_base_path: S,
    cert_path: S,
    cert_fetched: B,
    name: S,
    description: S,
    cluster_id: S,
    cluster_log_targets: 'any',
  },
  service_discovery: { consuls: 'any', aws_regions: 'any' },
  log: {
    log_to: S,
    log_file: S,
    log_level: S,
    log_format: S,
    apache_common_log_format: S,
    syslog: { syslog_address: S, syslog_protocol: S, syslog_tag: S, syslog_level: S, syslog_facility: S },
  },
  log_targets: [LOG_TARGET],
};

class ConfigError extends Error {}

// ---------------------------------------------------------------- a small YAML subset
// Block maps, block lists (of scalars or of maps), plain/quoted scalars, comments. Enough for the
// file ovactl renders and for dataplaneapi's own examples; anything else is a ConfigError.
function yamlScalar(raw, where) {
  let s = raw.trim();
  if (s.startsWith('"') || s.startsWith("'")) {
    const q = s[0];
    const end = s.indexOf(q, 1);
    if (end < 0) throw new ConfigError(`${where}: unterminated quoted string`);
    const rest = s.slice(end + 1).trim();
    if (rest && !rest.startsWith('#')) throw new ConfigError(`${where}: text after a quoted string`);
    const body = s.slice(1, end);
    return q === '"' ? body.replace(/\\(["\\])/g, '$1') : body;
  }
  const hash = s.search(/\s#/);
  if (hash >= 0) s = s.slice(0, hash).trim();
  if (s === '' || s === '~' || s === 'null') return null;
  if (s === 'true' || s === 'false') return s === 'true';
  if (/^-?\d+$/.test(s)) return Number(s);
  if (s === '[]') return [];
  if (s === '{}') return {};
  if (/^[[{&*!|>]/.test(s)) {
    throw new ConfigError(`${where}: YAML form not supported by the stand-in: ${s.slice(0, 20)}`);
  }
  return s;
}

function parseYaml(text, file) {
  const lines = [];
  text.split('\n').forEach((l, i) => {
    if (/^\s*(#.*)?$/.test(l) || l === '---') return;
    if (/\t/.test(l.match(/^\s*/)[0])) throw new ConfigError(`${file}:${i + 1}: tab in indentation`);
    lines.push({ n: i + 1, indent: l.match(/^ */)[0].length, text: l.trim() });
  });
  let pos = 0;
  const block = (indent) => {
    const first = lines[pos];
    if (!first || first.indent < indent) return null;
    return first.text.startsWith('- ') || first.text === '-' ? list(first.indent) : map(first.indent);
  };
  const keyValue = (l, text) => {
    const m = text.match(/^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/);
    if (!m) throw new ConfigError(`${file}:${l.n}: expected "key: value"`);
    return [m[1], m[2]];
  };
  const map = (indent) => {
    const out = {};
    while (pos < lines.length && lines[pos].indent === indent && !lines[pos].text.startsWith('-')) {
      const l = lines[pos++];
      const [k, v] = keyValue(l, l.text);
      if (k in out) throw new ConfigError(`${file}:${l.n}: key "${k}" given twice`);
      out[k] = v !== undefined && !/^#/.test(v) ? yamlScalar(v, `${file}:${l.n}`) : block(indent + 1);
    }
    if (pos < lines.length && lines[pos].indent > indent) {
      throw new ConfigError(`${file}:${lines[pos].n}: bad indentation`);
    }
    return out;
  };
  const list = (indent) => {
    const out = [];
    while (pos < lines.length && lines[pos].indent === indent && lines[pos].text.startsWith('-')) {
      const l = lines[pos];
      const item = l.text.replace(/^-\s*/, '');
      if (item === '') {
        pos++;
        out.push(block(indent + 1));
        continue;
      }
      if (/^[A-Za-z0-9_.-]+:(\s|$)/.test(item)) {
        // "- key: value" starts a map whose further keys sit at the item's indentation.
        const itemIndent = indent + (l.text.length - item.length);
        lines[pos] = { n: l.n, indent: itemIndent, text: item };
        out.push(map(itemIndent));
        continue;
      }
      pos++;
      out.push(yamlScalar(item, `${file}:${l.n}`));
    }
    return out;
  };
  const doc = block(0) ?? {};
  if (pos < lines.length) throw new ConfigError(`${file}:${lines[pos].n}: bad indentation`);
  if (Array.isArray(doc)) throw new ConfigError(`${file}: the top level must be a map`);
  return doc;
}

function checkKeys(value, schema, keyPath, file) {
  const fail = (why) => {
    throw new ConfigError(`${file}: ${why}`);
  };
  if (schema === 'any' || value === null) return;
  if (Array.isArray(schema)) {
    if (!Array.isArray(value)) fail(`key "${keyPath}" must be a list`);
    value.forEach((v, i) => checkKeys(v, schema[0], `${keyPath}[${i}]`, file));
    return;
  }
  if (typeof schema === 'object') {
    if (typeof value !== 'object' || Array.isArray(value)) fail(`key "${keyPath}" must be a map`);
    for (const [k, v] of Object.entries(value)) {
      const sub = keyPath ? `${keyPath}.${k}` : k;
      if (!(k in schema)) fail(`unknown key "${sub}": dataplaneapi ${STANDS_IN_FOR} has no such setting; remove it`);
      checkKeys(v, schema[k], sub, file);
    }
    return;
  }
  const ok = {
    str: () => typeof value !== 'object',
    int: () => Number.isInteger(value),
    bool: () => typeof value === 'boolean',
    list: () => Array.isArray(value) && value.every((x) => typeof x !== 'object'),
  };
  if (!ok[schema]()) fail(`key "${keyPath}" must be ${schema === 'list' ? 'a list of scalars' : `a ${schema}`}`);
}

// Settings with the real program's defaults (configuration/configuration.go, v2.9.27).
function settingsFrom(doc, overrides) {
  const d = doc.dataplaneapi ?? {};
  const h = doc.haproxy ?? {};
  const tls = d.tls ?? {};
  const r = h.reload ?? {};
  const tr = d.transaction ?? {};
  return {
    name: doc.name ?? os.hostname(),
    host: d.host ?? 'localhost',
    port: d.port ?? 80,
    schemes: d.scheme ?? (tls.tls_certificate ? ['https'] : ['http']),
    tlsHost: tls.tls_host ?? d.host ?? 'localhost',
    tlsPort: tls.tls_port ?? 443,
    tlsCert: tls.tls_certificate,
    tlsKey: tls.tls_key,
    tlsCa: tls.tls_ca,
    userlist: d.userlist?.userlist ?? 'controller',
    userlistFile: d.userlist?.userlist_file,
    yamlUsers: d.user,
    transactionDir: tr.transaction_dir ?? '/tmp/haproxy',
    maxOpenTransactions: tr.max_open_transactions ?? 20,
    backupsDir: tr.backups_dir,
    configFile: overrides.configFile ?? h.config_file ?? '/etc/haproxy/haproxy.cfg',
    haproxyBin: h.haproxy_bin ?? 'haproxy',
    reloadDelay: r.reload_delay ?? 5,
    reloadCmd: r.reload_cmd,
    disableInotify: d.disable_inotify ?? false,
  };
}

// ---------------------------------------------------------------- users and Basic auth
function readUsers(file, listName) {
  const users = new Map();
  let inList = false;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const w = line.replace(/#.*$/, '').trim().split(/\s+/).filter(Boolean);
    if (!w.length) continue;
    if (!/^\s/.test(line) && SECTION_KINDS.has(w[0])) {
      inList = w[0] === 'userlist' && w[1] === listName;
      continue;
    }
    if (!inList || w[0] !== 'user' || w.length < 4) continue;
    if (w[2] === 'password') users.set(w[1], { hash: w[3] });
    if (w[2] === 'insecure-password') users.set(w[1], { plain: w[3] });
  }
  return users;
}

const verified = new Map(); // sha256(hash, password) → boolean: the password itself is never kept
function cryptMatches(hash, password) {
  const parts = hash.split('$');
  if (parts.length !== 4 || !['1', '5', '6'].includes(parts[1])) return Promise.resolve(false);
  const key = crypto.createHash('sha256').update(hash).update('\0').update(password).digest('hex');
  if (verified.has(key)) return Promise.resolve(verified.get(key));
  return new Promise((resolve) => {
    const child = execFile(
      'openssl',
      ['passwd', `-${parts[1]}`, '-salt', parts[2], '-stdin'],
      { timeout: 10000 },
      (err, stdout) => {
        const ok = !err && stdout.trim() === hash;
        if (!err) verified.set(key, ok);
        resolve(ok);
      },
    );
    child.stdin.end(`${password}\n`);
  });
}

// ---------------------------------------------------------------- haproxy.cfg as client-native's parser holds it
// The model of a file after client-native's config-parser (v5.1) has read it, and the file it writes from
// that model: the layout the recordings in test/fixtures/dataplaneapi-rewrites/ show. Written for the
// stand-in from the parser's observable behaviour; none of its code.

/** Section keywords the parser knows (others are lines of the section before them). */
const SECTION_KINDS = new Set([
  'defaults',
  'global',
  'frontend',
  'backend',
  'listen',
  'resolvers',
  'userlist',
  'peers',
  'mailers',
  'cache',
  'program',
  'http-errors',
  'ring',
  'log-forward',
  'fcgi-app',
]);
/** The order sections are written in, after the header comments and `global`; each type sorted by name. */
const WRITE_ORDER = [
  'defaults',
  'userlist',
  'peers',
  'mailers',
  'resolvers',
  'cache',
  'ring',
  'log-forward',
  'http-errors',
  'fcgi-app',
  'frontend',
  'backend',
  'listen',
  'program',
];
/** Sections that take `from <defaults>` (the parser fills it in with the last defaults when it reads a file). */
const TAKES_FROM = new Set(['frontend', 'backend', 'listen']);

// The keywords (the parser's names: one or two words) in the order the parser writes them, per section
// type: the order of its keyword parsers in config-parser/section-parsers.go (client-native v5.1.27).
// Lines of other keywords, or that no keyword parser takes (`no strict-limits`), go to the end of their
// section, in file order. Other section types (listen included: v2.9 reads its lines as unknown ones)
// keep their lines in file order.
const list = (text) =>
  text
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
const KEYWORD_ORDER = Object.fromEntries(
  Object.entries({
    defaults: `
enabled, disabled, mode, monitor-uri, hash-type, balance, maxconn, backlog, log, option httplog, email-alert,
stats, log-tag, log-format, log-format-sd, error-log-format, cookie, dynamic-cookie-key, bind-process,
option tcplog, option httpclose, option http-use-htx, option redispatch, option dontlognull,
option log-separate-errors, option http-buffer-request, option http-server-close, option http-keep-alive,
option http-pretend-keepalive, option http-no-delay, option http-proxy, option tcpka, option clitcpka,
option srvtcpka, option contstats, option ssl-hello-chk, option smtpchk, option ldap-check, option mysql-check,
option abortonclose, option pgsql-check, option redis-check, option splice-auto, option splice-request,
option splice-response, option logasap, option log-health-checks, option allbackups, option external-check,
option forwardfor, option accept-invalid-http-request, option accept-invalid-http-response,
option h1-case-adjust-bogus-client, option h1-case-adjust-bogus-server, option disable-h2-upgrade,
option tcp-check, option checkcache, option http-ignore-probes, option http-use-proxy-header, option httpslog,
option independent-streams, option nolinger, option originalto, option persist, option prefer-last-server,
option socket-stats, option tcp-smart-accept, option tcp-smart-connect, option transparent,
option idle-close-on-response, option dontlog-normal, option http-restrict-req-hdr-names, tcp-check,
option httpchk, http-check, external-check path, external-check command, http-reuse, timeout http-request,
timeout check, timeout connect, timeout client, timeout client-fin, timeout queue, timeout server,
timeout server-fin, timeout tunnel, timeout http-keep-alive, timeout tarpit, retries, clitcpka-cnt,
clitcpka-idle, clitcpka-intvl, srvtcpka-cnt, srvtcpka-idle, srvtcpka-intvl, server-state-file-name,
compression algo, compression algo-req, compression algo-res, compression type, compression type-req,
compression type-res, compression offload, compression direction, default-server, load-server-state-from-file,
errorfile, errorfiles, errorloc302, errorloc303, default_backend, unique-id-format, unique-id-header, fullconn,
http-send-name-header, max-keep-alive-queue, retry-on, http-error, source, persist, rate-limit sessions,
hash-balance-factor, config-snippet
`,
    global: `
set-var, set-var-fmt, presetenv, resetenv, setenv, unsetenv, daemon, default-path, localpeer, chroot, uid,
user, gid, group, ca-base, crt-base, master-worker, external-check, nosplice, nbproc, nbthread, cpu-map, mode,
maxconn, maxconnrate, maxcomprate, maxcompcpuusage, maxpipes, maxsessrate, maxsslconn, maxsslrate, maxzlibmem,
fd-hard-limit, pidfile, stats socket, stats timeout, anonkey, httpclient.resolvers.disabled,
httpclient.resolvers.id, httpclient.resolvers.prefer, httpclient.retries, httpclient.ssl.ca-file,
httpclient.timeout.connect, httpclient.ssl.verify, limited-quic, prealloc-fd, tune.buffers.limit,
tune.buffers.reserve, tune.bufsize, tune.comp.maxlevel, tune.disable-zero-copy-forwarding,
tune.events.max-events-at-once, tune.fail-alloc, tune.fd.edge-triggered, tune.h1.zero-copy-fwd-recv,
tune.h1.zero-copy-fwd-send, tune.h2.be.initial-window-size, tune.h2.header-table-size,
tune.h2.initial-window-size, tune.h2.be.max-concurrent-streams, tune.h2.fe.initial-window-size,
tune.h2.fe.max-concurrent-streams, tune.h2.max-concurrent-streams, tune.h2.max-frame-size,
tune.h2.zero-copy-fwd-send, tune.http.cookielen, tune.http.logurilen, tune.http.maxhdr, tune.idle-pool.shared,
tune.idletimer, tune.listener.default-shards, tune.listener.multi-queue, tune.lua.forced-yield,
tune.lua.maxmem, tune.lua.session-timeout, tune.lua.burst-timeout, tune.lua.task-timeout,
tune.lua.service-timeout, tune.lua.log.loggers, tune.lua.log.stderr, tune.max-checks-per-thread,
tune.maxaccept, tune.maxpollevents, tune.maxrewrite, tune.memory.hot-size, tune.pattern.cache-size,
tune.peers.max-updates-at-once, tune.pipesize, tune.pool-high-fd-ratio, tune.pool-low-fd-ratio,
tune.pt.zero-copy-forwarding, tune.rcvbuf.backend, tune.rcvbuf.client, tune.rcvbuf.frontend,
tune.rcvbuf.server, tune.recv_enough, tune.runqueue-depth, tune.sched.low-latency, tune.sndbuf.backend,
tune.sndbuf.client, tune.sndbuf.frontend, tune.sndbuf.server, tune.ssl.cachesize, tune.ssl.force-private-cache,
tune.ssl.keylog, tune.ssl.lifetime, tune.ssl.maxrecord, tune.ssl.default-dh-param, tune.ssl.ssl-ctx-cache-size,
tune.ssl.capture-buffer-size, tune.ssl.ocsp-update.maxdelay, tune.ssl.ocsp-update.mindelay,
tune.stick-counters, tune.vars.global-max-size, tune.vars.proc-max-size, tune.vars.reqres-max-size,
tune.vars.sess-max-size, tune.vars.txn-max-size, tune.quic.frontend.conn-tx-buffers.limit,
tune.quic.frontend.max-idle-timeout, tune.quic.frontend.max-streams-bidi, tune.quic.max-frame-loss,
tune.quic.retry-threshold, tune.quic.socket-owner, no-quic, cluster-secret, tune.zlib.memlevel,
tune.zlib.windowsize, ssl-default-bind-options, ssl-default-bind-sigalgs, ssl-default-bind-ciphers,
ssl-default-bind-ciphersuites, ssl-default-server-options, ssl-default-server-ciphers,
ssl-default-server-ciphersuites, ssl-default-server-client-sigalgs, ssl-default-server-curves,
ssl-default-server-sigalgs, ssl-default-bind-client-sigalgs, ssl-default-bind-curves, ssl-dh-param-file,
ssl-load-extra-del-ext, ssl-propquery, ssl-provider, ssl-provider-path, ssl-server-verify,
ssl-skip-self-issued-ca, hard-stop-after, log, log-send-hostname, lua-prepend-path, lua-load,
server-state-file, server-state-base, ssl-engine, ssl-mode-async, h1-case-adjust-file, h1-case-adjust,
busy-polling, max-spread-checks, close-spread-time, noepoll, nokqueue, noevports, nopoll, nogetaddrinfo,
noreuseport, profiling.tasks, spread-checks, wurfl-data-file, wurfl-information-list,
wurfl-information-list-separator, wurfl-patch-file, wurfl-cache-size, description,
expose-experimental-directives, grace, insecure-fork-wanted, insecure-setuid-wanted, issuers-chain-path,
h2-workaround-bogus-websocket-clients, lua-load-per-thread, mworker-max-reloads, node, numa-cpu-mapping,
pp2-never-send-local, ulimit-n, set-dumpable, strict-limits, unix-bind, deviceatlas-json-file,
deviceatlas-log-level, deviceatlas-separator, deviceatlas-properties-cookie, 51degrees-data-file,
51degrees-property-name-list, 51degrees-property-separator, 51degrees-cache-size, thread-groups, stats maxconn,
ssl-load-extra-files, thread-group, quiet, zero-warning, setcap, h1-accept-payload-with-any-method,
h1-do-not-close-on-insecure-transfer-encoding, config-snippet
`,
    frontend: `
id, description, enabled, disabled, mode, maxconn, backlog, bind, acl, monitor-uri, monitor fail, bind-process,
log-tag, log-format, log-format-sd, error-log-format, log, email-alert, option httpclose, option forceclose,
option http-buffer-request, option http-server-close, option http-keep-alive, option http-use-htx,
option http-no-delay, option http-proxy, option forwardfor, option tcplog, option dontlognull,
option contstats, option log-separate-errors, option tcpka, option clitcpka, option splice-auto,
option splice-request, option splice-response, option accept-invalid-http-request,
option h1-case-adjust-bogus-client, option disable-h2-upgrade, option logasap, option http-ignore-probes,
option http-use-proxy-header, option httpslog, option independent-streams, option nolinger, option originalto,
option socket-stats, option tcp-smart-accept, option idle-close-on-response, option dontlog-normal,
option httplog, option http-restrict-req-hdr-names, timeout http-request, timeout client, timeout client-fin,
timeout http-keep-alive, timeout tarpit, clitcpka-cnt, clitcpka-idle, clitcpka-intvl, filter, compression algo,
compression algo-req, compression algo-res, compression type, compression type-req, compression type-res,
compression offload, tcp-request, stats, http-request, redirect, unique-id-format, unique-id-header, errorfile,
errorfiles, errorloc302, errorloc303, config-snippet, use_backend, default_backend, stick-table, tcp-response,
http-response, http-after-response, http-error, declare capture, rate-limit sessions
`,
    backend: `
id, description, enabled, disabled, mode, hash-type, balance, acl, force-persist, ignore-persist, bind-process,
option httpclose, option forceclose, option http-buffer-request, option http-server-close,
option http-keep-alive, option http-pretend-keepalive, option http-use-htx, option http-no-delay,
option http-proxy, option forwardfor, option ssl-hello-chk, option smtpchk, option ldap-check,
option mysql-check, option abortonclose, option pgsql-check, option redis-check, option redispatch,
option external-check, option splice-auto, option splice-request, option splice-response,
option log-health-checks, log-tag, option tcpka, option srvtcpka, option allbackups,
option accept-invalid-http-response, option h1-case-adjust-bogus-server, option tcp-check, option checkcache,
option independent-streams, option nolinger, option originalto, option persist, option prefer-last-server,
option spop-check, option tcp-smart-connect, option transparent, option http-restrict-req-hdr-names, tcp-check,
option httpchk, http-check, external-check path, external-check command, log, email-alert,
timeout http-request, timeout queue, timeout http-keep-alive, timeout check, timeout tunnel, timeout server,
timeout server-fin, timeout connect, timeout tarpit, srvtcpka-cnt, srvtcpka-idle, srvtcpka-intvl,
default-server, stick, filter, compression algo, compression algo-req, compression algo-res, compression type,
compression type-req, compression type-res, compression offload, compression direction, tcp-request, stats,
http-reuse, http-request, redirect, cookie, dynamic-cookie-key, use-server, stick-table, config-snippet,
errorfile, errorfiles, errorloc302, errorloc303, server, retries, tcp-response, http-response,
http-after-response, http-error, server-template, load-server-state-from-file, use-fcgi-app,
server-state-file-name, fullconn, max-keep-alive-queue, retry-on, http-send-name-header, source, persist,
hash-balance-factor
`,
  }).map(([k, v]) => [k, list(v)]),
);
const RANK = Object.fromEntries(
  Object.entries(KEYWORD_ORDER).map(([k, v]) => [k, new Map(v.map((name, i) => [name, i]))]),
);
/** Keywords whose parser also takes the line with `no` in front (others leave it to the unknown lines). */
const TAKES_NO = (key) => key.startsWith('option ') || key === 'log';

/** The parser's tokens of a line: quotes kept, `#` (unescaped, outside quotes) starts the line's comment. */
function tokens(line) {
  const parts = [];
  let cur = '';
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (!quote && c === '#' && line[i - 1] !== '\\') {
      if (cur) parts.push(cur);
      return { parts, comment: line.slice(i + 1).replace(/^ +/, '') };
    }
    if (!quote && ((c === ' ' && line[i - 1] !== '\\') || c === '\t')) {
      if (cur) parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
    if ((c === '"' || c === "'") && line[i - 1] !== '\\') quote = quote === c ? '' : quote || c;
  }
  if (cur) parts.push(cur);
  return { parts, comment: undefined };
}

/** The keyword parser a line goes to in a section of this kind ('' for the unknown lines). */
function keyOf(kind, parts) {
  const rank = RANK[kind];
  if (!rank) return '';
  for (let i = 1; i <= Math.min(parts.length, 3); i++) {
    const name = parts.slice(0, i).join(' ');
    if (rank.has(name)) return name;
  }
  if (parts[0] === 'no') {
    for (let i = 2; i <= Math.min(parts.length, 4); i++) {
      const name = parts.slice(1, i).join(' ');
      if (rank.has(name)) return TAKES_NO(name) ? name : '';
    }
  }
  return '';
}

const newSection = (kind, name, from = '') => ({ kind, name, from, pre: [], post: [], items: [] });

/** A directive of a section, as the parser keeps it. */
function itemOf(kind, text, { pre = [], comment } = {}) {
  const { parts } = tokens(text);
  const key = keyOf(kind, parts);
  // Unknown lines are kept whole (trimmed), their comment with them; known ones as their words.
  return key ? { key, text: parts.join(' '), comment, pre } : { key, text: text.trim(), pre };
}

/**
 * A file read as the parser reads it. namedFrom: a frontend/backend/listen without `from` gets the last
 * defaults section before it (the API's main configuration, read at start or by the watcher, against
 * haproxy >= 2.4); transactions read their file without (client-native's NoNamedDefaultsFrom).
 */
function parseConfig(text, { namedFrom }) {
  const cfg = { hash: undefined, version: undefined, comments: [], headerItems: [], post: [], sections: [] };
  const header = { kind: '', items: cfg.headerItems, post: cfg.post, pre: [] };
  let active = header;
  let state = '';
  let lineComments;
  let sectionComments;
  let lastDefaults = '';
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (line === '') {
      if (state === '') state = '#';
      continue;
    }
    const { parts, comment } = tokens(line);
    if (!parts.length && comment === undefined) continue;
    if (!parts.length && state === '') {
      if (comment.startsWith('_md5hash')) cfg.hash ??= comment.split('=')[1];
      else if (comment.startsWith('_version')) cfg.version ??= Number(comment.split('=')[1]);
      else cfg.comments.push(comment);
      continue;
    }
    if (!parts.length) {
      // A comment line: indented, it belongs to the next directive; at column 0, to the next section.
      if (line[0] === ' ') (lineComments ??= []).push(comment);
      else (sectionComments ??= []).push(comment);
      continue;
    }
    if (SECTION_KINDS.has(parts[0])) {
      if (lineComments) active.post = lineComments;
      lineComments = undefined;
      state = parts[0];
      let name = parts[1] ?? '';
      if (parts[0] === 'defaults' && !name) {
        for (let i = 1; ; i++) {
          name = `unnamed_defaults_${i}`;
          if (!cfg.sections.some((s) => s.kind === 'defaults' && s.name === name)) break;
        }
      }
      const explicit = parts[2] === 'from' ? (parts[3] ?? '') : '';
      const from = explicit || (namedFrom && TAKES_FROM.has(parts[0]) ? lastDefaults : '');
      let s = parts[0] === 'global' ? cfg.sections.find((x) => x.kind === 'global') : undefined;
      if (!s) {
        s = newSection(parts[0], name, parts[0] === 'defaults' ? explicit : from);
        // A second section of the same type and name replaces the first.
        cfg.sections = cfg.sections.filter((x) => !(x.kind === s.kind && x.name === s.name));
        cfg.sections.push(s);
      }
      if (parts[0] === 'defaults' && namedFrom) lastDefaults = name;
      if (sectionComments) s.pre = sectionComments;
      sectionComments = undefined;
      active = s;
      continue;
    }
    active.items.push(itemOf(active.kind, line, { pre: lineComments ?? [], comment }));
    lineComments = undefined;
  }
  if (lineComments) active.post = lineComments;
  if (sectionComments) active.post = [...active.post, ...sectionComments];
  return cfg;
}

/** The API's disclaimer, put first among the header comments when the file does not start with it. */
const DISCLAIMER = [
  'Dataplaneapi managed File',
  'changing file directly can cause a conflict if dataplaneapi is running',
];
function withDisclaimer(cfg) {
  if (cfg.comments[0] !== DISCLAIMER[0]) cfg.comments.unshift(...DISCLAIMER);
  return cfg;
}

function renderSectionBody(s, indent) {
  const out = [];
  const keys = [...new Set(s.items.map((i) => i.key))];
  const rank = RANK[s.kind];
  const order = (k) => (k === '' ? Number.MAX_SAFE_INTEGER : (rank?.get(k) ?? Number.MAX_SAFE_INTEGER - 1));
  keys.sort((a, b) => order(a) - order(b));
  for (const key of keys) {
    const items = s.items.filter((i) => i.key === key);
    for (const i of items) for (const c of i.pre) out.push(`${indent}# ${c}`);
    for (const i of items) out.push(`${indent}${i.text}${i.comment ? ` # ${i.comment}` : ''}`);
  }
  for (const c of s.post) out.push(`${indent}# ${c}`);
  return out;
}

/** Names in the order the parser writes them: sorted, a defaults section after the one it is `from`. */
function sortedSections(cfg, kind) {
  const all = cfg.sections
    .filter((s) => s.kind === kind)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (kind !== 'defaults') return all;
  const done = [];
  const visit = (s, seen) => {
    if (done.includes(s) || seen.has(s)) return;
    seen.add(s);
    const parent = all.find((x) => x.name === s.from);
    if (parent) visit(parent, seen);
    done.push(s);
  };
  for (const s of all) visit(s, new Set());
  return done;
}

/** The file the parser writes for the model: `# _md5hash=` of everything after line 1, then the rest. */
function renderConfig(cfg) {
  const out = [];
  out.push(`# _version=${cfg.version ?? 1}`);
  for (const c of cfg.comments) out.push(`# ${c}`);
  for (const i of cfg.headerItems) out.push(...i.pre.map((c) => `# ${c}`), i.text);
  for (const c of cfg.post) out.push(`# ${c}`);
  const header = (s) => {
    out.push(
      '',
      ...s.pre.map((c) => `# ${c}`),
      `${s.kind}${s.name ? ` ${s.name}` : ''}${s.from ? ` from ${s.from}` : ''}`,
    );
  };
  const global = cfg.sections.find((s) => s.kind === 'global');
  if (global) {
    if (global.items.length) header(global);
    out.push(...renderSectionBody(global, '  '));
  }
  for (const kind of WRITE_ORDER) {
    for (const s of sortedSections(cfg, kind)) {
      header(s);
      out.push(...renderSectionBody(s, '  '));
    }
  }
  const content = `${out.join('\n')}\n`;
  const hash = crypto.createHash('md5').update(content).digest('hex');
  return `# _md5hash=${hash}\n${content}`;
}

/** Whether line 1 is a `# _md5hash=` that matches the rest (the watcher's test: a match is its own write). */
function validHash(text) {
  const lines = text.split('\n');
  const parts = lines[0].split('=');
  if (parts.length !== 2 || parts[0] !== '# _md5hash') return false;
  return crypto.createHash('md5').update(lines.slice(1).join('\n')).digest('hex') === parts[1];
}

const cloneConfig = (cfg) => structuredClone(cfg);
const findSection = (cfg, kind, name) => cfg.sections.find((s) => s.kind === kind && s.name === name);
const sectionLines = (s) => s.items.map((i) => i.text);

const words = (l) => l.split(/\s+/);
const NAME_RE = /^[A-Za-z0-9-_.:]+$/;
const NOSPACE_RE = /^[^\s]+$/;

function splitAddress(a) {
  const v6 = a.match(/^\[([^\]]+)\](?::(\d+))?$/);
  if (v6) return { address: v6[1], port: v6[2] ? Number(v6[2]) : undefined };
  const c = (a.match(/:/g) ?? []).length;
  if (c === 0) return { address: a };
  const i = a.lastIndexOf(':');
  const p = a.slice(i + 1);
  return /^\d+$/.test(p) ? { address: a.slice(0, i), port: Number(p) } : { address: a };
}
const joinAddress = (address, port) => {
  const a = address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
  return port === undefined || port === null ? a : `${a}:${port}`;
};

// Each model: the keywords (lines) it owns in its parent section, line → object, object → lines.
const FRONTEND = {
  owns: (l) => /^(mode|maxconn|log-tag|default_backend)\s/.test(l) || /^option\s+(tcplog|httplog)\s*$/.test(l),
  parse(s) {
    const f = { name: s.name };
    for (const l of sectionLines(s)) {
      const w = words(l);
      if (w[0] === 'mode') f.mode = w[1];
      if (w[0] === 'maxconn') f.maxconn = Number(w[1]);
      if (w[0] === 'log-tag') f.log_tag = w[1];
      if (w[0] === 'default_backend') f.default_backend = w[1];
      if (l === 'option tcplog') f.tcplog = true;
      if (l === 'option httplog') f.httplog = true;
    }
    return f;
  },
  lines: (f) =>
    [
      f.mode && `mode ${f.mode}`,
      Number.isInteger(f.maxconn) && `maxconn ${f.maxconn}`,
      f.log_tag && `log-tag ${f.log_tag}`,
      f.tcplog && 'option tcplog',
      f.httplog && 'option httplog',
      f.default_backend && `default_backend ${f.default_backend}`,
    ].filter(Boolean),
  check: (f) =>
    !NAME_RE.test(f.name ?? '')
      ? 'name'
      : f.mode && !['http', 'tcp'].includes(f.mode)
        ? 'mode'
        : f.log_tag !== undefined && !/^[A-Za-z0-9-_.:${}"]+$/.test(f.log_tag)
          ? 'log_tag'
          : f.default_backend !== undefined && !NAME_RE.test(f.default_backend)
            ? 'default_backend'
            : null,
};
const ADV_CHECKS = [
  'httpchk',
  'ldap-check',
  'mysql-check',
  'pgsql-check',
  'redis-check',
  'smtpchk',
  'ssl-hello-chk',
  'tcp-check',
];
const BACKEND = {
  owns: (l) => /^(mode|balance|log-tag)\s/.test(l) || ADV_CHECKS.some((c) => l === `option ${c}`),
  parse(s) {
    const b = { name: s.name };
    for (const l of sectionLines(s)) {
      const w = words(l);
      if (w[0] === 'mode') b.mode = w[1];
      if (w[0] === 'balance') b.balance = { algorithm: w[1] };
      if (w[0] === 'log-tag') b.log_tag = w[1];
      if (w[0] === 'option' && ADV_CHECKS.includes(w[1]) && w.length === 2) b.adv_check = w[1];
    }
    return b;
  },
  lines: (b) =>
    [
      b.mode && `mode ${b.mode}`,
      b.balance?.algorithm && `balance ${b.balance.algorithm}`,
      b.log_tag && `log-tag ${b.log_tag}`,
      b.adv_check && `option ${b.adv_check}`,
    ].filter(Boolean),
  check: (b) =>
    !NAME_RE.test(b.name ?? '')
      ? 'name'
      : b.mode && !['http', 'tcp', 'log'].includes(b.mode)
        ? 'mode'
        : b.adv_check && !ADV_CHECKS.includes(b.adv_check)
          ? 'adv_check'
          : b.balance && !/^[a-z-]+$/.test(b.balance.algorithm ?? '')
            ? 'balance.algorithm'
            : b.log_tag !== undefined && !NOSPACE_RE.test(b.log_tag)
              ? 'log_tag'
              : null,
};
const BIND = {
  keyword: 'bind',
  parse(l) {
    const w = words(l);
    const b = { ...splitAddress(w[1] ?? '') };
    for (let i = 2; i < w.length; i++) {
      if (['name', 'maxconn', 'verify', 'crt', 'ca-file', 'alpn'].includes(w[i])) {
        const v = w[++i];
        const key = { crt: 'ssl_certificate', 'ca-file': 'ssl_cafile' }[w[i - 1]] ?? w[i - 1];
        b[key] = w[i - 1] === 'maxconn' ? Number(v) : v;
      } else if (['ssl', 'v4v6', 'v6only', 'transparent', 'accept-proxy'].includes(w[i])) {
        b[w[i].replace('-', '_')] = true;
      }
    }
    if (!b.name) b.name = w[1];
    return b;
  },
  line: (b) =>
    [
      'bind',
      joinAddress(b.address, b.port),
      'name',
      b.name ?? joinAddress(b.address, b.port),
      b.accept_proxy && 'accept-proxy',
      b.maxconn && `maxconn ${b.maxconn}`,
      b.ssl && 'ssl',
      b.ssl_certificate && `crt ${b.ssl_certificate}`,
      b.ssl_cafile && `ca-file ${b.ssl_cafile}`,
      b.alpn && `alpn ${b.alpn}`,
      b.transparent && 'transparent',
      b.v4v6 && 'v4v6',
      b.v6only && 'v6only',
      b.verify && `verify ${b.verify}`,
    ]
      .filter(Boolean)
      .join(' '),
  key: (b) => b.name,
  check: (b) =>
    !NOSPACE_RE.test(b.name ?? '')
      ? 'name'
      : !NOSPACE_RE.test(b.address ?? '')
        ? 'address'
        : b.port !== undefined && !(Number.isInteger(b.port) && b.port >= 1 && b.port <= 65535)
          ? 'port'
          : (['verify', 'ssl_certificate', 'ssl_cafile', 'alpn'].find(
              (k) => b[k] !== undefined && !NOSPACE_RE.test(b[k]),
            ) ?? null),
};
const SERVER = {
  keyword: 'server',
  parse(l) {
    const w = words(l);
    const s = { name: w[1], ...splitAddress(w[2] ?? '') };
    for (let i = 3; i < w.length; i++) {
      const flag = {
        check: ['check', 'enabled'],
        'no-check': ['check', 'disabled'],
        ssl: ['ssl', 'enabled'],
        'no-ssl': ['ssl', 'disabled'],
        backup: ['backup', 'enabled'],
        'check-ssl': ['check-ssl', 'enabled'],
      }[w[i]];
      if (flag) s[flag[0]] = flag[1];
      else if (['weight', 'maxconn', 'inter'].includes(w[i])) s[w[i]] = Number(w[++i]);
      else if (w[i] === 'verify') s.verify = w[++i];
      else if (w[i] === 'id') s.id = Number(w[++i]);
    }
    return s;
  },
  // SerializeServerParams' order (configuration/server.go, v5.1).
  line: (s) =>
    [
      'server',
      s.name,
      joinAddress(s.address, s.port),
      s.backup === 'enabled' && 'backup',
      s.check === 'enabled' && 'check',
      s.check === 'disabled' && 'no-check',
      s['check-ssl'] === 'enabled' && 'check-ssl',
      s.ssl === 'enabled' && 'ssl',
      s.ssl === 'disabled' && 'no-ssl',
      Number.isInteger(s.inter) && `inter ${s.inter}`,
      Number.isInteger(s.maxconn) && `maxconn ${s.maxconn}`,
      s.verify && `verify ${s.verify}`,
      Number.isInteger(s.weight) && `weight ${s.weight}`,
      Number.isInteger(s.id) && `id ${s.id}`,
    ]
      .filter(Boolean)
      .join(' '),
  key: (s) => s.name,
  check: (s) =>
    !NOSPACE_RE.test(s.name ?? '')
      ? 'name'
      : !NOSPACE_RE.test(s.address ?? '')
        ? 'address'
        : s.port !== undefined && !(Number.isInteger(s.port) && s.port >= 1 && s.port <= 65535)
          ? 'port'
          : s.verify && !['none', 'required'].includes(s.verify)
            ? 'verify'
            : s.check && !['enabled', 'disabled'].includes(s.check)
              ? 'check'
              : null,
};
const SWITCHING_RULE = {
  keyword: 'use_backend',
  parse(l) {
    const w = words(l);
    const r = { name: w[1] };
    if (w[2] === 'if' || w[2] === 'unless') {
      r.cond = w[2];
      r.cond_test = w.slice(3).join(' ');
    }
    return r;
  },
  line: (r) => ['use_backend', r.name, r.cond, r.cond && r.cond_test].filter(Boolean).join(' '),
  check: (r) =>
    !NOSPACE_RE.test(r.name ?? '')
      ? 'name'
      : r.cond && !['if', 'unless'].includes(r.cond)
        ? 'cond'
        : r.cond && !r.cond_test
          ? 'cond_test'
          : null,
};

// ---------------------------------------------------------------- errors, HTTP plumbing
class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}
const notFound = (what) => new ApiError(404, `${what} does not exist`);

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        // Answer at once and close the connection: the rest of the body is neither read nor kept.
        reject(new ApiError(413, `request body larger than ${MAX_BODY} bytes`));
        req.pause();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJsonBody(text) {
  let v;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'body is not valid JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, 'body must be a JSON object');
  // A value is written into one line of haproxy.cfg: a line break would smuggle in lines of its own.
  const walk = (x, at) => {
    if (typeof x === 'string' && /[\x00-\x1f\x7f]/.test(x)) {
      throw new ApiError(422, `${at} in body holds a control character`);
    }
    if (x && typeof x === 'object') for (const [k, y] of Object.entries(x)) walk(y, at ? `${at}.${k}` : k);
  };
  walk(v, '');
  return v;
}

// ---------------------------------------------------------------- the API
class Api {
  constructor(settings) {
    this.s = settings;
    this.transactions = new Map(); // id → { id, version, cfg, status }
    this.usersStamp = '';
    this.loadUsers();
    this.main = this.readMain();
    this.reloads = new ReloadAgent(settings);
  }

  /** The configuration as the API holds it: read from haproxy.cfg at start and by the watcher. */
  readMain() {
    let text;
    try {
      text = fs.readFileSync(this.s.configFile, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read ${this.s.configFile}: ${e.code ?? e.message}`);
    }
    return withDisclaimer(parseConfig(text, { namedFrom: true }));
  }

  get version() {
    return this.main.version ?? 1;
  }

  loadUsers() {
    const { s } = this;
    if (s.yamlUsers?.length) {
      this.users = new Map(s.yamlUsers.map((u) => [u.name, u.insecure ? { plain: u.password } : { hash: u.password }]));
      return;
    }
    const file = s.userlistFile ?? s.configFile;
    if (!fs.existsSync(file)) throw new ConfigError(`cannot read ${file}, file does not exist`);
    this.users = readUsers(file, s.userlist);
    if (!this.users.size) throw new ConfigError(`no users configured in ${file} (userlist ${s.userlist})`);
  }

  // The real program re-reads its users when haproxy.cfg changes (its inotify watcher).
  refreshUsers() {
    if (this.s.disableInotify || this.s.yamlUsers?.length) return;
    let st;
    try {
      st = fs.statSync(this.s.configFile);
    } catch {
      return;
    }
    const stamp = `${st.mtimeMs}:${st.size}`;
    if (stamp === this.usersStamp) return;
    if (this.usersStamp) {
      try {
        this.loadUsers();
      } catch (e) {
        log(`users not reloaded: ${e.message}`);
      }
    }
    this.usersStamp = stamp;
  }

  async authenticate(req) {
    const m = (req.headers.authorization ?? '').match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i);
    if (!m) return null;
    const plain = Buffer.from(m[1], 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i < 0) return null;
    const [name, password] = [plain.slice(0, i), plain.slice(i + 1)];
    this.refreshUsers();
    const u = this.users.get(name);
    if (!u) return null;
    const ok = u.plain !== undefined ? u.plain === password : await cryptMatches(u.hash ?? '', password);
    return ok ? name : null;
  }

  // ---- the watcher: a write whose md5 line is missing or stale is someone else's; take it
  watch() {
    if (this.s.disableInotify) return;
    const base = path.basename(this.s.configFile);
    this.watcher = fs.watch(path.dirname(this.s.configFile), (_event, name) => {
      if (name !== base) return;
      let text;
      try {
        text = fs.readFileSync(this.s.configFile, 'utf8');
      } catch {
        return;
      }
      if (validHash(text)) return;
      try {
        this.main = withDisclaimer(parseConfig(text, { namedFrom: true }));
      } catch (e) {
        log(`watcher: cannot read ${this.s.configFile}: ${e.message}`);
        return;
      }
      this.main.version = this.version + 1;
      writeAtomically(this.s.configFile, renderConfig(this.main));
      log(`watcher: ${this.s.configFile} changed outside the API; re-read, version ${this.version}`);
    });
  }

  txFile(id, status = '') {
    return path.join(this.s.transactionDir, status, `${path.basename(this.s.configFile)}.${id}`);
  }

  // ---- transactions: the main configuration saved to a file of its own, read back without named `from`
  startTransaction(version) {
    if (version !== this.version) {
      throw new ApiError(409, `version in configuration file is ${this.version}, given version is ${version}`);
    }
    const open = [...this.transactions.values()].filter((t) => t.status === 'in_progress').length;
    if (open >= this.s.maxOpenTransactions) {
      throw new ApiError(
        429,
        'cannot start a new transaction, reached the maximum amount of ' +
          `${this.s.maxOpenTransactions} active transactions available`,
      );
    }
    const t = { id: crypto.randomUUID(), version, status: 'in_progress' };
    fs.mkdirSync(this.s.transactionDir, { recursive: true });
    const text = renderConfig(this.main);
    writeAtomically(this.txFile(t.id), text);
    t.cfg = parseConfig(text, { namedFrom: false });
    this.transactions.set(t.id, t);
    return t;
  }

  transaction(id, code = 404) {
    const t = this.transactions.get(id);
    if (!t || t.status !== 'in_progress') throw new ApiError(code, `transaction ${id} does not exist`);
    return t;
  }

  /** A failed or outdated transaction: its file moved to a folder of that name, as the real one does. */
  endTransaction(t, status) {
    t.status = status;
    const dir = path.join(this.s.transactionDir, status);
    fs.mkdirSync(dir, { recursive: true });
    try {
      fs.renameSync(this.txFile(t.id), this.txFile(t.id, status));
    } catch {
      this.dropTxFile(t.id);
    }
  }

  async commit(t) {
    if (this.version !== t.version) {
      this.endTransaction(t, 'outdated');
      throw new ApiError(
        409,
        `version mismatch, transaction version: ${t.version}, configured version: ${this.version}`,
      );
    }
    t.cfg.version = t.version + 1;
    const text = renderConfig(t.cfg);
    const file = this.txFile(t.id);
    writeAtomically(file, text);
    const check = await run(this.s.haproxyBin, ['-f', file, '-c']);
    if (check.code !== 0) {
      t.cfg.version = t.version;
      this.endTransaction(t, 'failed');
      throw new ApiError(400, (check.stderr || check.stdout).trim() || `${this.s.haproxyBin} -c failed`);
    }
    writeAtomically(this.s.configFile, text);
    this.dropTxFile(t.id);
    this.main = t.cfg;
    t.status = 'success';
  }

  /** After an explicit commit (only): transactions started on its version or before are outdated. */
  outdateOlder(t) {
    for (const o of this.transactions.values()) {
      if (o.status === 'in_progress' && o.version <= t.version) this.endTransaction(o, 'outdated');
    }
  }

  dropTxFile(id) {
    fs.rmSync(this.txFile(id), { force: true });
  }

  /**
   * A change: inside the transaction named by ?transaction_id=, or, with ?version=, in a transaction of
   * its own committed at once; then a reload scheduled (202 with its Reload-ID) or, with
   * force_reload=true, done before the answer (201/200/204, or the reload's failure).
   */
  async change(q, fn) {
    const tid = q.get('transaction_id');
    const ver = q.get('version');
    const force = q.get('force_reload') === 'true';
    if (tid && force) throw new ApiError(400, 'Both force_reload and transaction specified, specify only one');
    if (tid && ver) throw new ApiError(400, 'both version and transaction specified, specify only one');
    if (tid) {
      const t = this.transaction(tid, 400);
      const result = fn(t.cfg);
      writeAtomically(this.txFile(t.id), renderConfig(t.cfg));
      return { result, status: 'tx' };
    }
    if (!ver) throw new ApiError(400, 'version or transaction not specified, specify only one');
    const t = this.startTransaction(int(ver, 'version'));
    try {
      const result = fn(t.cfg);
      await this.commit(t);
      if (force) {
        await this.reloads.force();
        return { result, status: 'done' };
      }
      return { result, status: 'reload', reloadId: this.reloads.schedule() };
    } finally {
      this.transactions.delete(t.id);
      this.dropTxFile(t.id);
    }
  }

  viewCfg(q) {
    const tid = q.get('transaction_id');
    if (tid) {
      const t = this.transaction(tid, 400);
      return { cfg: t.cfg, version: t.version };
    }
    return { cfg: this.main, version: this.version };
  }
}

// ---------------------------------------------------------------- reloads (haproxy/reload_agent.go)
// One scheduled reload at a time, run by a ticker every reload_delay seconds; requests before it runs
// share its id. The command is split at spaces and run without a shell. On success haproxy.cfg is copied
// to the last-known-good file; on failure that file is copied back over haproxy.cfg.
class ReloadAgent {
  constructor(s) {
    this.s = s;
    this.lkg = s.backupsDir ? path.join(s.backupsDir, `${path.basename(s.configFile)}.lkg`) : `${s.configFile}.lkg`;
    if (s.backupsDir) fs.mkdirSync(s.backupsDir, { recursive: true });
    copyFile(s.configFile, this.lkg); // assumed good at start
    this.index = 0;
    this.next = '';
    this.failed = new Map();
    this.lastSuccess = undefined;
    this.running = Promise.resolve();
    this.ticker = setInterval(() => {
      if (this.next) this.handle(this.next).catch(() => {});
    }, s.reloadDelay * 1000);
  }

  schedule() {
    if (!this.next) this.next = `${new Date().toISOString().slice(0, 10)}-${this.index++}`;
    return this.next;
  }

  /** A reload now: the scheduled one if any. Rejects with the command's failure. */
  async force() {
    const r = await this.handle(this.next || 'force');
    if (r.status === 'failed') throw new ApiError(400, `Reload failed: ${r.response}`);
  }

  handle(id) {
    if (id === this.next) this.next = '';
    const run = this.running.then(() => this.reload(id));
    this.running = run.catch(() => {});
    return run;
  }

  async reload(id) {
    if (!this.s.reloadCmd) return { id, status: 'succeeded', response: '' };
    const [cmd, ...args] = this.s.reloadCmd.split(' ');
    const r = await run(cmd, args);
    const entry = { id, reload_timestamp: Math.floor(Date.now() / 1000), response: (r.stderr || r.stdout).trim() };
    if (r.code !== 0) {
      const bck = `${this.s.configFile}.bck`;
      copyFile(this.s.configFile, bck);
      copyFile(this.lkg, this.s.configFile);
      fs.rmSync(bck, { force: true });
      log(`reload ${id}: "${this.s.reloadCmd}" exited ${r.code}; ${this.lkg} copied back over ${this.s.configFile}`);
      const failed = { ...entry, status: 'failed' };
      if (id !== 'force') this.failed.set(id, failed);
      return failed;
    }
    copyFile(this.s.configFile, this.lkg);
    log(`reload ${id}: done`);
    this.lastSuccess = { ...entry, status: 'succeeded' };
    return this.lastSuccess;
  }

  list() {
    const pending = this.next ? [{ id: this.next, status: 'in_progress' }] : [];
    return [...pending, ...this.failed.values(), ...(this.lastSuccess ? [this.lastSuccess] : [])];
  }

  stop() {
    clearInterval(this.ticker);
  }
}

function copyFile(src, dest) {
  writeAtomically(dest, fs.readFileSync(src));
}

function int(v, what) {
  if (!/^\d+$/.test(v ?? '')) throw new ApiError(400, `${what} must be an integer`);
  return Number(v);
}

function run(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && !stdout ? err.message : '') });
    });
  });
}

/** As the API saves (renameio): a temporary file renamed over the target, mode 0644 whatever it was. */
function writeAtomically(file, text) {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`,
  );
  fs.writeFileSync(tmp, text, { mode: 0o644 });
  fs.chmodSync(tmp, 0o644);
  fs.renameSync(tmp, file);
}

// ---------------------------------------------------------------- routes
// Parent sections (frontends, backends) and their children (binds, servers, switching rules), as a table.
const PARENTS = { frontends: ['frontend', FRONTEND], backends: ['backend', BACKEND] };
const CHILDREN = {
  binds: { model: BIND, parentKind: 'frontend', parentParam: 'frontend', byIndex: false },
  servers: { model: SERVER, parentKind: 'backend', parentParam: 'backend', byIndex: false },
  backend_switching_rules: { model: SWITCHING_RULE, parentKind: 'frontend', parentParam: 'frontend', byIndex: true },
};

function validBody(model, obj, what) {
  const bad = model.check(obj);
  if (bad) throw new ApiError(422, `${what}: ${bad} in body is missing or invalid`);
}

function parentRoutes(api, coll, name, method, q, body) {
  const [kind, model] = PARENTS[coll];
  if (method === 'GET') {
    const { cfg, version } = api.viewCfg(q);
    if (!name) {
      const data = cfg.sections.filter((s) => s.kind === kind).map((s) => model.parse(s));
      return { code: 200, version, json: { _version: version, data } };
    }
    const s = findSection(cfg, kind, name);
    if (!s) throw notFound(`${kind} ${name}`);
    return { code: 200, version, json: { _version: version, data: model.parse(s) } };
  }
  if (method === 'POST' && !name) {
    const obj = parseJsonBody(body);
    validBody(model, obj, kind);
    return api
      .change(q, (cfg) => {
        if (findSection(cfg, kind, obj.name)) throw new ApiError(409, `${kind} ${obj.name} already exists`);
        // A section the API creates has no `from` (its transactions read without named defaults).
        const s = newSection(kind, obj.name);
        s.items = model.lines(obj).map((l) => itemOf(kind, l));
        cfg.sections.push(s);
        return model.parse(s);
      })
      .then((r) => ({ ...r, created: true }));
  }
  if (method === 'PUT' && name) {
    const obj = parseJsonBody(body);
    validBody(model, obj, kind);
    return api.change(q, (cfg) => {
      const s = findSection(cfg, kind, name);
      if (!s) throw notFound(`${kind} ${name}`);
      s.items = [...model.lines(obj).map((l) => itemOf(kind, l)), ...s.items.filter((i) => !model.owns(i.text))];
      s.name = obj.name;
      return model.parse(s);
    });
  }
  if (method === 'DELETE' && name) {
    return api
      .change(q, (cfg) => {
        const i = cfg.sections.findIndex((s) => s.kind === kind && s.name === name);
        if (i < 0) throw notFound(`${kind} ${name}`);
        cfg.sections.splice(i, 1);
      })
      .then((r) => ({ ...r, deleted: true }));
  }
  throw new ApiError(405, `method ${method} not allowed`);
}

function childRoutes(api, coll, key, method, q, body) {
  const { model, parentKind, parentParam, byIndex } = CHILDREN[coll];
  const parentName = q.get(parentParam) ?? (q.get('parent_type') === parentKind ? q.get('parent_name') : null);
  if (!parentName) throw new ApiError(400, `parent name not specified: give ?${parentParam}=NAME`);
  const section = (cfg) => {
    const s = findSection(cfg, parentKind, parentName);
    if (!s) throw new ApiError(byIndex ? 404 : 400, `${parentKind} ${parentName} does not exist`);
    return s;
  };
  // A child's place among its kind is what counts: the parser writes each keyword's lines together.
  const items = (s) => s.items.filter((i) => i.key === model.keyword);
  const pick = (s) => {
    const list = items(s);
    const i = byIndex ? int(key, 'index') : list.findIndex((x) => model.key(model.parse(x.text)) === key);
    if (i < 0 || i >= list.length) {
      throw notFound(
        byIndex ? `${model.keyword} rule ${key} in ${parentKind} ${parentName}` : `${model.keyword} ${key}`,
      );
    }
    return { list, i, item: list[i] };
  };
  const view = (l, i) => (byIndex ? { index: i, ...model.parse(l) } : model.parse(l));

  if (method === 'GET') {
    const { cfg, version } = api.viewCfg(q);
    const s = section(cfg);
    if (key === undefined) {
      return { code: 200, version, json: { _version: version, data: items(s).map((x, i) => view(x.text, i)) } };
    }
    const { i, item } = pick(s);
    return { code: 200, version, json: { _version: version, data: view(item.text, i) } };
  }
  if ((method === 'POST' && key === undefined) || (method === 'PUT' && key !== undefined)) {
    const obj = parseJsonBody(body);
    validBody(model, obj, model.keyword);
    if (byIndex && method === 'POST' && !(Number.isInteger(obj.index) && obj.index >= 0)) {
      throw new ApiError(422, 'index in body is required (an integer >= 0)');
    }
    return api
      .change(q, (cfg) => {
        const s = section(cfg);
        const line = model.line(obj);
        const list = items(s);
        if (method === 'PUT') {
          const { i, item } = pick(s);
          Object.assign(item, itemOf(parentKind, line));
          return view(line, i);
        }
        const at = (i) => (i < list.length ? s.items.indexOf(list[i]) : s.items.length);
        if (byIndex) {
          if (obj.index > list.length) {
            throw new ApiError(400, `index ${obj.index} out of range (${list.length} rules)`);
          }
          s.items.splice(at(obj.index), 0, itemOf(parentKind, line));
          return view(line, obj.index);
        }
        if (list.some((x) => model.key(model.parse(x.text)) === model.key(obj))) {
          throw new ApiError(409, `${model.keyword} ${model.key(obj)} already exists in ${parentKind} ${parentName}`);
        }
        s.items.push(itemOf(parentKind, line));
        return view(line);
      })
      .then((r) => ({ ...r, created: method === 'POST' }));
  }
  if (method === 'DELETE' && key !== undefined) {
    return api
      .change(q, (cfg) => {
        const s = section(cfg);
        s.items.splice(s.items.indexOf(pick(s).item), 1);
      })
      .then((r) => ({ ...r, deleted: true }));
  }
  throw new ApiError(405, `method ${method} not allowed`);
}

async function route(api, req, body) {
  const url = new URL(req.url, 'https://standin.invalid');
  const q = url.searchParams;
  const p = url.pathname.replace(/\/+$/, '');
  let seg;
  try {
    seg = p.split('/').slice(1).map(decodeURIComponent);
  } catch {
    throw new ApiError(400, 'malformed path');
  }
  const m = req.method;
  if (p === '/v2/info' && m === 'GET') {
    return {
      code: 200,
      json: {
        api: { build_date: BUILD_DATE, version: `${STANDS_IN_FOR} stand-in` },
        system: {
          hostname: os.hostname(),
          os_string: `${os.type()} ${os.release()}`,
          time: Date.now(),
          uptime: Math.round(os.uptime()),
          cpu_info: { model: os.cpus()[0]?.model ?? '', num_cpus: os.cpus().length },
          mem_info: {
            total_memory: os.totalmem(),
            free_memory: os.freemem(),
            dataplaneapi_memory: process.memoryUsage().rss,
          },
        },
      },
    };
  }
  if (seg[0] !== 'v2' || seg[1] !== 'services' || seg[2] !== 'haproxy') {
    throw new ApiError(404, `path ${url.pathname} was not found`);
  }
  if (seg[3] === 'reloads' && m === 'GET') {
    const list = api.reloads.list();
    if (!seg[4]) return { code: 200, json: list };
    const r = list.find((x) => x.id === seg[4]);
    if (!r) throw notFound(`reload ${seg[4]}`);
    return { code: 200, json: r };
  }
  if (seg[3] === 'transactions') {
    const id = seg[4];
    if (!id && m === 'GET') {
      const status = q.get('status');
      const list = [...api.transactions.values()].filter((t) => !status || t.status === status);
      return { code: 200, json: list.map(txView) };
    }
    if (!id && m === 'POST') return { code: 201, json: txView(api.startTransaction(int(q.get('version'), 'version'))) };
    if (id && seg.length === 5) {
      if (m === 'GET') {
        const t = api.transactions.get(id);
        if (!t) throw notFound(`transaction ${id}`);
        return { code: 200, json: txView(t) };
      }
      if (m === 'DELETE') {
        api.transaction(id);
        api.transactions.delete(id);
        api.dropTxFile(id);
        return { code: 204 };
      }
      if (m === 'PUT') {
        const t = api.transactions.get(id);
        if (!t) throw notFound(`transaction ${id}`);
        if (t.status === 'outdated' || t.status === 'failed') {
          throw new ApiError(406, `transaction ${id} is ${t.status} and cannot be committed`);
        }
        await api.commit(t);
        api.transactions.delete(id);
        api.outdateOlder(t);
        if (q.get('force_reload') === 'true') {
          await api.reloads.force();
          return { code: 200, json: txView(t) };
        }
        return { code: 202, json: txView(t), headers: { 'Reload-ID': api.reloads.schedule() } };
      }
    }
    throw new ApiError(405, `method ${m} not allowed on ${url.pathname}`);
  }
  if (seg[3] !== 'configuration' || seg.length > 6) throw new ApiError(404, `path ${url.pathname} was not found`);
  // GET raw: v2's {_version, data}, data being haproxy.cfg as it is on disk (client-native reads the file).
  if (seg[4] === 'raw' && seg.length === 5 && m === 'GET') {
    const { version } = api.viewCfg(q);
    return { code: 200, json: { _version: version, data: fs.readFileSync(api.s.configFile, 'utf8') }, version };
  }
  if (seg[4] === 'version' && seg.length === 5 && m === 'GET') {
    const { version } = api.viewCfg(q);
    return { code: 200, json: version, version };
  }
  const r = PARENTS[seg[4]]
    ? parentRoutes(api, seg[4], seg[5], m, q, body)
    : CHILDREN[seg[4]]
      ? childRoutes(api, seg[4], seg[5], m, q, body)
      : null;
  if (!r) throw new ApiError(404, `path ${url.pathname} was not found`);
  const res = await r;
  if (res.code) return res;
  // A change in a transaction: 202, no reload. Committed at once: 202 with the scheduled reload's id, or,
  // with force_reload=true, after the reload: 201 created, 200 replaced, 204 deleted.
  const version = res.status === 'tx' ? api.transactions.get(q.get('transaction_id'))?.version : api.version;
  const json = res.deleted ? undefined : res.result;
  if (res.status === 'tx') return { code: 202, json, version };
  if (res.status === 'reload') return { code: 202, json, headers: { 'Reload-ID': res.reloadId }, version };
  return { code: res.deleted ? 204 : res.created ? 201 : 200, json, version };
}

const txView = (t) => ({ _version: t.version, id: t.id, status: t.status });
const BUILD_DATE = '2026-01-01T00:00:00.000Z';

function log(msg) {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
}

function handler(api, requireAuth) {
  return async (req, res) => {
    const started = Date.now();
    let code = 500;
    let user = '-';
    const send = (status, json, headers = {}) => {
      code = status;
      const text = json === undefined ? '' : `${JSON.stringify(json)}\n`;
      const close = status === 413 ? { Connection: 'close' } : {};
      res.writeHead(status, { ...(text ? { 'Content-Type': 'application/json' } : {}), ...close, ...headers });
      res.end(text);
    };
    try {
      if (requireAuth) {
        user = (await api.authenticate(req)) ?? '';
        if (!user) {
          send(401, { code: 401, message: 'unauthenticated for basic' }, { 'WWW-Authenticate': 'Basic realm="API"' });
          return;
        }
      }
      const body = ['POST', 'PUT'].includes(req.method) ? await readBody(req) : '';
      const r = await route(api, req, body);
      const headers = {
        ...(r.headers ?? {}),
        ...(r.version !== undefined ? { 'Configuration-Version': String(r.version) } : {}),
      };
      send(r.code, r.json, headers);
    } catch (e) {
      if (e instanceof ApiError) send(e.code, { code: e.code, message: e.message });
      else {
        send(500, { code: 500, message: 'internal error of the stand-in' });
        log(`error: ${e.stack}`);
      }
    } finally {
      const what = (req.url ?? '').split('?')[0];
      const who = `${req.socket.remoteAddress ?? '-'} ${user || '-'}`;
      log(`${who} "${req.method} ${what}" ${code} ${Date.now() - started}ms`);
    }
  };
}

// ---------------------------------------------------------------- command line
function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const [flag, inline] = eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) throw new ConfigError(`option ${flag} needs a value`);
      return argv[++i];
    };
    if (flag === '-v' || flag === '--version') o.version = true;
    else if (flag === '-h' || flag === '--help') o.help = true;
    else if (flag === '-f') o.file = value();
    else if (/^-f./.test(flag)) o.file = flag.slice(2);
    else if (flag === '-c' || flag === '--config-file') o.configFile = value();
    else throw new ConfigError(`option ${a} is not supported by the stand-in (only -f, -c/--config-file, --version)`);
  }
  return o;
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${PROG}: ${e.message}\n`);
    process.exit(1);
  }
  if (opts.version) {
    process.stdout.write(
      `HAProxy Data Plane API ${STANDS_IN_FOR} stand-in ` + '(test code of ovactl, not the real program)\n\n',
    );
    process.stdout.write('Build from: ovactl test/standin/dataplaneapi.cjs\n');
    process.stdout.write(`Build date: ${BUILD_DATE}\n\n`);
    return;
  }
  if (opts.help) {
    process.stdout.write(
      'Usage: dataplaneapi -f FILE [-c HAPROXY_CFG] | --version\n' + '(test stand-in of HAProxy Data Plane API)\n',
    );
    return;
  }
  const file = opts.file ?? '/etc/haproxy/dataplaneapi.yaml';
  let api;
  let s;
  try {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read ${file}: ${e.code}`);
    }
    const doc = parseYaml(text, file);
    checkKeys(doc, KNOWN_KEYS, '', file);
    if (doc.config_version !== undefined && doc.config_version !== 2) {
      throw new ConfigError(
        `${file}: key "config_version" is ${doc.config_version}; ` + 'the stand-in reads version 2 only',
      );
    }
    s = settingsFrom(doc, opts);
    if (s.schemes.includes('https') && (!s.tlsCert || !s.tlsKey)) {
      throw new ConfigError(`${file}: keys "dataplaneapi.tls.tls_certificate" and "tls_key" are needed for https`);
    }
    api = new Api(s);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${PROG}: configuration error: ${e.message}\n`);
    process.exit(1);
  }
  const servers = [];
  if (s.schemes.includes('https')) {
    let tls;
    try {
      tls = { cert: fs.readFileSync(s.tlsCert), key: fs.readFileSync(s.tlsKey) };
      if (s.tlsCa) Object.assign(tls, { ca: fs.readFileSync(s.tlsCa), requestCert: true, rejectUnauthorized: true });
    } catch (e) {
      process.stderr.write(`${PROG}: cannot read the TLS files: ${e.message}\n`);
      process.exit(1);
    }
    // With a client CA the real program skips Basic auth (mutual TLS).
    servers.push([https.createServer(tls, handler(api, !s.tlsCa)), s.tlsHost, s.tlsPort, 'https']);
  }
  if (s.schemes.includes('http')) servers.push([http.createServer(handler(api, true)), s.host, s.port, 'http']);
  for (const [srv, host, port, scheme] of servers) {
    srv.requestTimeout = 60000;
    srv.on('error', (e) => {
      process.stderr.write(`${PROG}: cannot serve ${scheme} on ${host}:${port}: ${e.message}\n`);
      process.exit(1);
    });
    srv.listen(port, host, () =>
      log(
        `Serving data plane at ${scheme}://${joinAddress(host, port)} ` +
          `(stand-in of HAProxy Data Plane API ${STANDS_IN_FOR})`,
      ),
    );
  }
  api.watch();
  const stop = () => {
    for (const [srv] of servers) srv.close();
    api.reloads.stop();
    api.watcher?.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
