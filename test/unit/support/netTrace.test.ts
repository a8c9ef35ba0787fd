import * as assert from 'node:assert/strict';
import { dnsQuestion, outboundInTrace, summarize } from '../../support/netTrace';

/** A DNS query as the C library's resolver sends it, printed the way strace -x prints it. */
function query(name: string, type: number): string {
  const labels = Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const b = Buffer.concat([Buffer.from([0x3c, 0xf8, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0]), labels, Buffer.from([0, type, 0, 1])]);
  return [...b].map((x) => `\\x${x.toString(16).padStart(2, '0')}`).join('');
}

const sendmmsg = (pid: string, a: string, b: string): string => `${pid} sendmmsg(18, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="${a}", iov_len=30}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=30}, {msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="${b}", iov_len=30}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=30}], 2, MSG_NOSIGNAL) = 2`;

describe('reading an strace log for traffic beyond 127.0.0.1', () => {
  const cases: Array<{ behaviour: string; lines: string[]; expected: string[]; ignore?: string[] }> = [
    {
      behaviour: 'a lookup through the name server counts as the connect to it and names the host asked for',
      lines: [
        '26252<node> connect(18, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)',
        '26252<node> connect(18, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0',
        sendmmsg('26252<node>', query('open-vsx.org', 1), query('open-vsx.org', 28)),
      ],
      expected: ['connect 10.255.255.53:53', 'DNS open-vsx.org (A)', 'DNS open-vsx.org (AAAA)'],
    },
    {
      behaviour: 'a lookup through a resolver on loopback still names the host',
      lines: [
        '7<node> connect(9, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 0',
        `7<node> sendto(9, "${query('update.googleapis.com', 65)}", 38, MSG_NOSIGNAL, NULL, 0) = 38`,
      ],
      expected: ['DNS update.googleapis.com (HTTPS)'],
    },
    {
      behaviour: 'connects to loopback, unix sockets and a localhost lookup are not traffic',
      lines: [
        '26238<node> connect(19, {sa_family=AF_INET, sin_port=htons(1), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)',
        '5<node> connect(20, {sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
        '5<node> connect(21, {sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
        '5<node> connect(22, {sa_family=AF_UNIX, sun_path="/tmp/docker.sock"}, 110) = 0',
        `5<node> sendto(9, "${query('localhost', 1)}", 27, MSG_NOSIGNAL, NULL, 0) = 27`,
        '5<node> sendmsg(12, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="CHILD_PING\\x00", iov_len=11}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, MSG_NOSIGNAL) = 11',
      ],
      expected: [],
    },
    {
      behaviour: 'an IPv6 connect outside loopback counts, unless it is a probe the caller names',
      lines: [
        '9<NetworkService> connect(24, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:4860:4860::8888", &sin6_addr), sin6_scope_id=0}, 28) = 0',
        '9<NetworkService> connect(25, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2a00:1450::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH (Network is unreachable)',
      ],
      ignore: ['[2001:4860:4860::8888]:443'],
      expected: ['connect [2a00:1450::1]:443'],
    },
    {
      behaviour: 'a connect split by another thread\'s line is read from its first half',
      lines: [
        '12<libuv-worker> connect(26, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("93.184.216.34")}, 16 <unfinished ...>',
        '13<node> connect(27, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '12<libuv-worker> <... connect resumed>) = -1 EINPROGRESS (Operation now in progress)',
      ],
      expected: ['connect 93.184.216.34:443'],
    },
  ];
  for (const c of cases) {
    it(c.behaviour, () => {
      assert.deepEqual(outboundInTrace(c.lines.join('\n'), { ignoreConnects: c.ignore }).map((o) => o.what), c.expected);
    });
  }

  it('a datagram that is not a DNS query names no host', () => {
    assert.equal(dnsQuestion(Buffer.from('\x10\x00\x00\x00X\x00\x00\x00+d\x97\xdc\x12\x00\x00\x00\x18\x00', 'latin1')), undefined);
    assert.equal(dnsQuestion(Buffer.from('short')), undefined);
  });

  it('the summary counts repeats by thread name, not thread id', () => {
    assert.deepEqual(summarize([
      { process: '1<libuv-worker>', what: 'DNS open-vsx.org (A)' },
      { process: '2<libuv-worker>', what: 'DNS open-vsx.org (A)' },
      { process: '3<node>', what: 'connect 10.255.255.53:53' },
    ]), ['DNS open-vsx.org (A) from <libuv-worker> (2×)', 'connect 10.255.255.53:53 from <node>']);
  });
});
