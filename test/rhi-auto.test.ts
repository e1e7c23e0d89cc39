// auto: rules derived from a haproxy configuration as the Data Plane API writes it — frontend bind
// addresses → that frontend and the backends it uses; what is skipped, and why.
import t from 'tap';
import { bindAddress, deriveRules, parseHaproxyConfig, words } from '../src/rhi/auto.js';
import { parseCidr, type Cidr } from '../src/net/ip.js';
import { ruleText } from '../src/rhi/rules.js';

const ranges = (...r: string[]) => r.map((x) => parseCidr(x) as Cidr);

// The shape the Data Plane API writes (frontends and backends created by the control plane).
const CFG = `# _md5hash=0123
global
  stats socket /run/haproxy/admin.sock mode 660 level admin expose-fd listeners

defaults unnamed_defaults_1
  mode tcp
  timeout connect 5s

userlist controller
  user admin password $6$x

frontend domain-c8:ns1/web-lb
  mode tcp
  bind 192.0.2.70:80 name http
  bind 192.0.2.70:443 name https
  default_backend domain-c8:ns1/web-lb-80

frontend domain-c8:ns1/api
  bind 192.0.2.71:6443,192.0.2.72:6443
  use_backend api-blue if { src 10.0.0.0/8 }
  use_backend api-green
  use_backend %[req.hdr(host),lower]
  default_backend api-blue

frontend stats
  bind 198.51.100.10:8404   # the management address
  bind *:9000
  bind :::9001
  bind unix@/run/x.sock
  bind \${VIP}:80
  bind [2001:db8::70]:80
  http-request return status 200

frontend off
  bind 192.0.2.73:80
  disabled
  default_backend app

listen legacy
  bind ipv4@192.0.2.74:25
  server s1 10.0.0.5:25 check

frontend second-on-70
  bind 192.0.2.70:8080
  default_backend app

backend domain-c8:ns1/web-lb-80
  server s1 10.0.0.1:80 check
backend api-blue
  server s1 10.0.0.2:6443
backend api-green
  server s1 10.0.0.3:6443
backend app
  server s1 10.0.0.4:80
`;

t.test('haproxy words: quotes, escapes, comments', async (t) => {
  t.same(words('  bind 192.0.2.1:80 name "a b" # comment'), ['bind', '192.0.2.1:80', 'name', 'a b']);
  t.same(words("acl x hdr(host) -m str 'it''s' a\\ b"), ['acl', 'x', 'hdr(host)', '-m', 'str', 'its', 'a b']);
  t.same(words('# all comment'), []);
});

t.test('bind addresses', async (t) => {
  t.same(bindAddress('192.0.2.1:80'), { ip: '192.0.2.1', family: 4 });
  t.same(bindAddress('192.0.2.1:80-81'), { ip: '192.0.2.1', family: 4 });
  t.same(bindAddress('ipv4@192.0.2.1:80'), { ip: '192.0.2.1', family: 4 });
  t.same(bindAddress('[2001:DB8::1]:443'), { ip: '2001:db8::1', family: 6 });
  t.same(bindAddress('ipv6@2001:db8::1:443'), { ip: '2001:db8::1', family: 6 });
  for (const s of ['*:80', ':80', '0.0.0.0:80', ':::80', '[::]:80']) t.match(bindAddress(s), { skip: /wildcard/ }, s);
  t.match(bindAddress('unix@/run/a.sock'), { skip: /not an IP/ });
  t.match(bindAddress('/run/a.sock'), { skip: /UNIX socket/ });
  t.match(bindAddress('${VIP}:80'), { skip: /environment/ });
  t.match(bindAddress('lb.example.test:80'), { skip: /not resolved/ });
});

t.test('one rule per VIP: its frontends and their backends, all required', async (t) => {
  const cfg = parseHaproxyConfig(CFG);
  t.same(
    cfg.frontends.map((f) => [f.name, f.backends]),
    [
      ['domain-c8:ns1/web-lb', ['domain-c8:ns1/web-lb-80']],
      ['domain-c8:ns1/api', ['api-blue', 'api-green']],
      ['stats', []],
      ['off', ['app']],
      ['legacy', []],
      ['second-on-70', ['app']],
    ],
  );
  const auto = deriveRules(cfg, ranges('192.0.2.64/26', '2001:db8::/64'));
  t.same(auto.rules.map(ruleText), [
    '192.0.2.70/32 = all(f:domain-c8:ns1/web-lb, b:domain-c8:ns1/web-lb-80, f:second-on-70, b:app)',
    '192.0.2.71/32 = all(f:domain-c8:ns1/api, b:api-blue, b:api-green)',
    '192.0.2.72/32 = all(f:domain-c8:ns1/api, b:api-blue, b:api-green)',
    '2001:db8::70/128 = all(f:stats)',
    '192.0.2.74/32 = all(f:legacy, b:legacy)',
  ]);
  t.same(
    auto.rules.map((r) => r.targets[0]!.protocol),
    ['rhi', 'rhi', 'rhi', 'rhi6', 'rhi'],
  );
  t.equal(
    auto.origins.get(auto.rules[0]!),
    'frontend domain-c8:ns1/web-lb binds 192.0.2.70:80; frontend domain-c8:ns1/web-lb binds 192.0.2.70:443; frontend second-on-70 binds 192.0.2.70:8080',
  );
  const notes = auto.notes.join('\n');
  t.match(
    notes,
    /frontend domain-c8:ns1\/api \(line 22\): use_backend %\[req\.hdr\(host\),lower\] is computed at run time/,
  );
  t.match(
    notes,
    /frontend stats \(line 26\) binds 198\.51\.100\.10:8404: 198\.51\.100\.10 is outside the VIP ranges; not announced/,
  );
  t.match(notes, /binds \*:9000: all addresses \(a wildcard\)/);
  t.match(notes, /binds unix@\/run\/x\.sock: not an IP address/);
  t.match(notes, /binds \$\{VIP\}:80: set from an environment variable/);
  t.match(notes, /frontend off \(line 34\) is disabled in the configuration; not announced/);
  t.notMatch(auto.rules.map(ruleText).join('\n'), /192\.0\.2\.73|198\.51\.100\.10/);
});

t.test('default_backend from defaults sections (anonymous, named with "from")', async (t) => {
  const cfg = parseHaproxyConfig(`defaults
  default_backend first
defaults named
  default_backend second
frontend a
  bind 192.0.2.1:80
frontend b from named
  bind 192.0.2.2:80
defaults
  mode tcp
frontend c
  bind 192.0.2.3:80
frontend d
  bind 192.0.2.4:80
  default_backend own
`);
  t.same(
    cfg.frontends.map((f) => [f.name, f.backends]),
    [
      ['a', ['second']],
      ['b', ['second']],
      ['c', []],
      ['d', ['own']],
    ],
    'a frontend takes the last defaults section before it (or the one named by "from"); its own default_backend wins',
  );
  t.same(deriveRules(cfg, undefined).rules.length, 4, 'no ranges: no filter');
  t.same(
    deriveRules(parseHaproxyConfig('global\n  maxconn 10\n'), ranges('192.0.2.0/24')).rules,
    [],
    'no frontends: no rules',
  );
});
