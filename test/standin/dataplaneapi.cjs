#!/usr/bin/env node
// TEST STAND-IN of the HAProxy Data Plane API (dataplaneapi v2.9.27) — test code of ovactl, NOT the real
// program. The real binary cannot be downloaded on the development and CI machines, so the tests (and
// the VM test's image, as /usr/local/bin/dataplaneapi) use this stand-in: plain JavaScript for Node 18,
// no npm dependencies, only the openssl CLI and haproxy.
//
// What it does, modelled on dataplaneapi v2.9.27 and client-native v5.1 (read, not copied):
// - `dataplaneapi -f FILE` reads the YAML configuration; unlike the real one (which ignores unknown
//   keys silently) it REFUSES any key v2.9 does not know: a key the real one ignores is a setting lost.
//   As in the real one, -c/--config-file names haproxy.cfg (overriding haproxy.config_file), not the YAML.
//   Unlike the real one, it never writes the YAML back (the real one saves it at start: name, status).
// - serves HTTPS (tls_host/tls_port, tls_certificate/tls_key) and checks HTTP Basic auth against the
//   `userlist <name>` section of userlist_file (else haproxy.cfg): $1$/$5$/$6$ crypt hashes through
//   `openssl passwd`, or insecure-password.
// - implements the /v2 subset the vSphere Supervisor uses: info, configuration version, transactions,
//   frontends, binds, backends, servers, backend switching rules.
// - writes haproxy.cfg: `# _version=N` first line, N+1 per commit, changed sections rendered with
//   two-space indentation in client-native's keyword order; sections it is not asked to change are kept
//   byte for byte (the real one re-renders the whole file through its parser). Validates with
//   `<haproxy_bin> -c -f` before a commit and runs reload_cmd at most once per reload_delay seconds.
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

// ---------------------------------------------------------------- haproxy.cfg: sections and models
const SECTION_KINDS = new Set([
  'global',
  'defaults',
  'frontend',
  'backend',
  'listen',
  'userlist',
  'peers',
  'resolvers',
  'mailers',
  'cache',
  'ring',
  'program',
  'http-errors',
  'log-forward',
  'fcgi-app',
  'crt-store',
  'traces',
]);

/** The file as header lines plus sections; a section keeps its raw text unless it is changed. */
function parseCfg(text) {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const cfg = { header: [], sections: [] };
  let cur = null;
  for (const line of lines) {
    const w = line.trim().split(/\s+/);
    if (line && !/^\s/.test(line) && SECTION_KINDS.has(w[0])) {
      cur = { kind: w[0], name: w[1] ?? '', raw: [line], body: [], dirty: false };
      cfg.sections.push(cur);
    } else if (cur) {
      cur.raw.push(line);
      const t = line.replace(/^\s+/, '');
      if (t && !t.startsWith('#')) cur.body.push(t);
    } else cfg.header.push(line);
  }
  return cfg;
}

function cfgVersion(cfg) {
  const m = cfg.header[0]?.match(/^# _version=(\d+)\s*$/);
  return m ? Number(m[1]) : 1;
}

function renderCfg(cfg, version) {
  const header = [...cfg.header];
  if (/^# _version=\d+/.test(header[0] ?? '')) header[0] = `# _version=${version}`;
  else header.unshift(`# _version=${version}`);
  const out = [...header];
  for (const s of cfg.sections) {
    if (!s.dirty) {
      out.push(...s.raw);
      continue;
    }
    if (out.length && out[out.length - 1] !== '') out.push('');
    out.push(`${s.kind} ${s.name}`, ...sortBody(s).map((l) => `  ${l}`), '');
  }
  return `${out.join('\n')}\n`;
}

const cloneCfg = (cfg) => ({
  header: [...cfg.header],
  sections: cfg.sections.map((s) => ({ ...s, raw: [...s.raw], body: [...s.body] })),
});

// client-native's keyword order in a rendered section (config-parser/section-parsers.go, v5.1); keywords
// the stand-in does not model keep their place among each other, between the modelled ones.
const ORDER = {
  frontend: [
    ['id'],
    ['description'],
    ['enabled'],
    ['disabled'],
    ['mode'],
    ['maxconn'],
    ['backlog'],
    ['bind'],
    ['acl'],
    ['*'],
    ['log-tag'],
    ['log-format'],
    ['log'],
    ['option'],
    ['timeout'],
    ['tcp-request'],
    ['http-request'],
    ['use_backend'],
    ['default_backend'],
    ['http-response'],
  ],
  backend: [
    ['id'],
    ['description'],
    ['enabled'],
    ['disabled'],
    ['mode'],
    ['balance'],
    ['*'],
    ['log-tag'],
    ['option'],
    ['log'],
    ['default-server'],
    ['http-request'],
    ['use-server'],
    ['server'],
    ['http-response'],
  ],
};
function sortBody(s) {
  const order = ORDER[s.kind];
  if (!order) return s.body;
  const rank = (l) => {
    const i = order.findIndex(([k]) => k === l.split(/\s+/)[0]);
    return i >= 0 ? i : order.findIndex(([k]) => k === '*');
  };
  return s.body
    .map((l, i) => [rank(l), i, l])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map((x) => x[2]);
}

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
    for (const l of s.body) {
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
    for (const l of s.body) {
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
    this.lastReload = 0;
    this.reloadTimer = null;
    this.usersStamp = '';
    this.loadUsers();
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

  readCfg() {
    try {
      return parseCfg(fs.readFileSync(this.s.configFile, 'utf8'));
    } catch (e) {
      throw new ApiError(500, `cannot read ${this.s.configFile}: ${e.code ?? e.message}`);
    }
  }

  txFile(id) {
    return path.join(this.s.transactionDir, `${path.basename(this.s.configFile)}.${id}`);
  }

  // ---- transactions
  startTransaction(version) {
    const cfg = this.readCfg();
    const current = cfgVersion(cfg);
    if (version !== current) {
      throw new ApiError(409, `version in configuration file is ${current}, given version is ${version}`);
    }
    const open = [...this.transactions.values()].filter((t) => t.status === 'in_progress').length;
    if (open >= this.s.maxOpenTransactions) {
      throw new ApiError(
        429,
        'cannot start a new transaction, reached the maximum amount of ' +
          `${this.s.maxOpenTransactions} active transactions available`,
      );
    }
    const t = { id: crypto.randomUUID(), version: current, cfg, status: 'in_progress' };
    fs.mkdirSync(this.s.transactionDir, { recursive: true });
    fs.writeFileSync(this.txFile(t.id), renderCfg(cfg, current), { mode: 0o600 });
    this.transactions.set(t.id, t);
    return t;
  }

  transaction(id, code = 404) {
    const t = this.transactions.get(id);
    if (!t || t.status !== 'in_progress') throw new ApiError(code, `transaction ${id} does not exist`);
    return t;
  }

  async commit(t) {
    const current = cfgVersion(this.readCfg());
    if (current !== t.version) {
      t.status = 'outdated';
      this.dropTxFile(t.id);
      throw new ApiError(409, `version mismatch, transaction version: ${t.version}, configured version: ${current}`);
    }
    const text = renderCfg(t.cfg, t.version + 1);
    const file = this.txFile(t.id);
    fs.writeFileSync(file, text, { mode: 0o600 });
    const check = await run(this.s.haproxyBin, ['-c', '-f', file]);
    if (check.code !== 0) {
      t.status = 'failed';
      this.dropTxFile(t.id);
      throw new ApiError(400, (check.stderr || check.stdout).trim() || `${this.s.haproxyBin} -c failed`);
    }
    writeAtomically(this.s.configFile, text);
    this.dropTxFile(t.id);
    t.status = 'success';
    t.version += 1;
    return this.requestReload();
  }

  dropTxFile(id) {
    fs.rmSync(this.txFile(id), { force: true });
  }

  // ---- reloads: at most one per reload_delay; requests inside the delay share one later reload
  requestReload(force = false) {
    const id = crypto.randomBytes(8).toString('hex');
    if (!this.s.reloadCmd) return id;
    if (force) {
      clearTimeout(this.reloadTimer);
      this.reloadTimer = null;
      this.reload();
      return id;
    }
    if (!this.reloadTimer) {
      const wait = Math.max(0, this.lastReload + this.s.reloadDelay * 1000 - Date.now());
      this.reloadTimer = setTimeout(() => {
        this.reloadTimer = null;
        this.reload();
      }, wait);
    }
    return id;
  }

  reload() {
    this.lastReload = Date.now();
    const child = spawn('sh', ['-c', this.s.reloadCmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => {
      err += c;
    });
    child.on('close', (code) =>
      log(code === 0 ? 'reload: done' : `reload: "${this.s.reloadCmd}" exited ${code}: ${err.trim().slice(0, 300)}`),
    );
  }

  /**
   * Runs a change: inside the transaction named by ?transaction_id=, or in a transaction of its own
   * committed at once when ?version= is given (as the real API does).
   */
  async change(q, fn) {
    const tid = q.get('transaction_id');
    const ver = q.get('version');
    if (tid && ver) throw new ApiError(400, 'both version and transaction specified, specify only one');
    if (tid) {
      const t = this.transaction(tid, 400);
      const result = fn(t.cfg);
      fs.writeFileSync(this.txFile(t.id), renderCfg(t.cfg, t.version), { mode: 0o600 });
      return { result, status: 'tx' };
    }
    if (!ver) throw new ApiError(400, 'version or transaction not specified, specify only one');
    const t = this.startTransaction(int(ver, 'version'));
    try {
      const result = fn(t.cfg);
      const reloadId = await this.commit(t);
      if (q.get('force_reload') === 'true') this.requestReload(true);
      return { result, status: q.get('force_reload') === 'true' ? 'done' : 'reload', reloadId };
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
    const cfg = this.readCfg();
    return { cfg, version: cfgVersion(cfg) };
  }
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

function writeAtomically(file, text) {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text, { mode: st ? st.mode & 0o7777 : 0o644 });
  if (st) {
    try {
      fs.chownSync(tmp, st.uid, st.gid);
    } catch {
      /* not root: keep ours */
    }
  }
  fs.renameSync(tmp, file);
}

const findSection = (cfg, kind, name) => cfg.sections.find((s) => s.kind === kind && s.name === name);

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
        cfg.sections.push({ kind, name: obj.name, raw: [], body: model.lines(obj), dirty: true });
        return model.parse(cfg.sections[cfg.sections.length - 1]);
      })
      .then((r) => ({ ...r, created: true }));
  }
  if (method === 'PUT' && name) {
    const obj = parseJsonBody(body);
    validBody(model, obj, kind);
    return api.change(q, (cfg) => {
      const s = findSection(cfg, kind, name);
      if (!s) throw notFound(`${kind} ${name}`);
      s.body = [...model.lines(obj), ...s.body.filter((l) => !model.owns(l))];
      s.name = obj.name;
      s.dirty = true;
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
  const items = (s) => s.body.map((l, at) => ({ l, at })).filter((x) => words(x.l)[0] === model.keyword);
  const pick = (s) => {
    const list = items(s);
    if (byIndex) {
      const i = int(key, 'index');
      if (i >= list.length) throw notFound(`${model.keyword} rule ${i} in ${parentKind} ${parentName}`);
      return { list, i, at: list[i].at };
    }
    const i = list.findIndex((x) => model.key(model.parse(x.l)) === key);
    if (i < 0) throw notFound(`${model.keyword} ${key} in ${parentKind} ${parentName}`);
    return { list, i, at: list[i].at };
  };
  const view = (l, i) => (byIndex ? { index: i, ...model.parse(l) } : model.parse(l));

  if (method === 'GET') {
    const { cfg, version } = api.viewCfg(q);
    const s = section(cfg);
    if (key === undefined) {
      return { code: 200, version, json: { _version: version, data: items(s).map((x, i) => view(x.l, i)) } };
    }
    const { i, at } = pick(s);
    return { code: 200, version, json: { _version: version, data: view(s.body[at], i) } };
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
          const { at, i } = pick(s);
          s.body[at] = line;
          s.dirty = true;
          return view(line, i);
        }
        if (byIndex) {
          if (obj.index > list.length)
            throw new ApiError(400, `index ${obj.index} out of range (${list.length} rules)`);
          const at =
            obj.index < list.length ? list[obj.index].at : list.length ? list[list.length - 1].at + 1 : s.body.length;
          s.body.splice(at, 0, line);
          s.dirty = true;
          return view(line, obj.index);
        }
        if (list.some((x) => model.key(model.parse(x.l)) === model.key(obj))) {
          throw new ApiError(409, `${model.keyword} ${model.key(obj)} already exists in ${parentKind} ${parentName}`);
        }
        s.body.push(line);
        s.dirty = true;
        return view(line);
      })
      .then((r) => ({ ...r, created: method === 'POST' }));
  }
  if (method === 'DELETE' && key !== undefined) {
    return api
      .change(q, (cfg) => {
        const s = section(cfg);
        s.body.splice(pick(s).at, 1);
        s.dirty = true;
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
        const t = api.transaction(id);
        const reloadId = await api.commit(t);
        api.transactions.delete(id);
        if (q.get('force_reload') === 'true') {
          api.requestReload(true);
          return { code: 200, json: txView(t) };
        }
        return { code: 202, json: txView(t), headers: { 'Reload-ID': reloadId } };
      }
    }
    throw new ApiError(405, `method ${m} not allowed on ${url.pathname}`);
  }
  if (seg[3] !== 'configuration' || seg.length > 6) throw new ApiError(404, `path ${url.pathname} was not found`);
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
  // A change: in a transaction → 201/200/204; committed now → 202 with the reload it asked for.
  const version =
    res.status === 'tx' ? api.transactions.get(q.get('transaction_id'))?.version : cfgVersion(api.readCfg());
  const headers = res.reloadId && res.status === 'reload' ? { 'Reload-ID': res.reloadId } : {};
  if (res.status === 'reload') return { code: 202, json: res.deleted ? undefined : res.result, headers, version };
  return { code: res.deleted ? 204 : res.created ? 201 : 200, json: res.deleted ? undefined : res.result, version };
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
  const stop = () => {
    for (const [srv] of servers) srv.close();
    clearTimeout(api.reloadTimer);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
