// Test code: a syslog receiver (RFC 5426 udp, RFC 6587 octet-counted tcp, RFC 5425 tls) printing
// each message it gets as one JSON line {proto, msg} on stdout. Args: ADDRESS [CERT KEY].
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';

const [address, certFile, keyFile] = process.argv.slice(2);
const print = (proto, msg) => process.stdout.write(`${JSON.stringify({ proto, msg })}\n`);

/** Octet counting: "LEN SP MSG", one after the other; a line without a length is a plain LF frame. */
function framed(proto) {
  return (socket) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const m = /^(\d+) /.exec(buf.subarray(0, 12).toString('latin1'));
        if (m) {
          const start = m[0].length,
            len = Number(m[1]);
          if (buf.length < start + len) return;
          print(
            proto,
            buf
              .subarray(start, start + len)
              .toString('utf8')
              .replace(/\n$/, ''),
          );
          buf = buf.subarray(start + len);
        } else {
          const nl = buf.indexOf(10);
          if (nl < 0) return;
          print(`${proto}-lf`, buf.subarray(0, nl).toString('utf8'));
          buf = buf.subarray(nl + 1);
        }
      }
    });
    socket.on('error', (e) => process.stderr.write(`${proto} socket error: ${e.message}\n`));
  };
}

const listening = (emitter) => new Promise((resolve) => emitter.once('listening', resolve));
const udp = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
udp.on('message', (m) => print('udp', m.toString('utf8').replace(/\n$/, '')));
const ready = [listening(udp), listening(net.createServer(framed('tcp')).listen(514, address))];
udp.bind(514, address);
if (certFile) {
  const server = tls.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, framed('tls'));
  // Connection events on stderr: a test sees a client arrive and what became of its handshake.
  server.on('connection', (c) => {
    process.stderr.write('tls connection\n');
    c.on('close', () => process.stderr.write('tls connection closed\n'));
  });
  server.on('secureConnection', () => process.stderr.write('tls handshake done\n'));
  server.on('tlsClientError', (e) => process.stderr.write(`tls client error: ${e.message}\n`));
  ready.push(listening(server.listen(6514, address)));
}
await Promise.all(ready);
process.stdout.write('{"listening":true}\n');
