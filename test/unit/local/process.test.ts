import { strict as assert } from 'node:assert';
import { childEnv, gcArgs, lastLine, mentionsPortInUse, nextState, parseListening, serveArgs, type LocalEvent, type LocalState } from '../../../src/local/process';

describe('local registry process', () => {
  it('runs `registry.js serve` on 127.0.0.1 with the storage root (and config when given)', () => {
    const base = { execPath: '/usr/bin/node', cliPath: '/ext/dist/registry.js', port: 5000, storagePath: '/data/reg', isElectron: false };
    assert.deepEqual(serveArgs(base), ['/ext/dist/registry.js', 'serve', '--listen', '127.0.0.1:5000', '--root', '/data/reg']);
    assert.deepEqual(serveArgs({ ...base, configPath: '/c.yml' }).slice(-2), ['--config', '/c.yml']);
    assert.deepEqual(gcArgs(base, true), ['/ext/dist/registry.js', 'gc', '--root', '/data/reg', '--all-uploads', '--dry-run']);
    assert.deepEqual(gcArgs(base, false), ['/ext/dist/registry.js', 'gc', '--root', '/data/reg', '--all-uploads']);
    assert.deepEqual(gcArgs({ ...base, configPath: '/c.yml' }, true), ['/ext/dist/registry.js', 'gc', '--root', '/data/reg', '--config', '/c.yml', '--all-uploads', '--dry-run']);
  });

  it('tells electron to run as node, and never passes NODE_OPTIONS (a debugger) on', () => {
    const env = { PATH: '/bin', NODE_OPTIONS: '--inspect' };
    assert.deepEqual(childEnv(env, true), { PATH: '/bin', ELECTRON_RUN_AS_NODE: '1' });
    assert.deepEqual(childEnv(env, false), { PATH: '/bin' });
    assert.equal(env.NODE_OPTIONS, '--inspect', 'the caller\'s environment is untouched');
  });

  const lines: Array<{ line: string; expected: ReturnType<typeof parseListening> }> = [
    { line: 'listening on http://127.0.0.1:5000', expected: { url: 'http://127.0.0.1:5000', host: '127.0.0.1', port: 5000 } },
    { line: 'listening on https://127.0.0.1:43211', expected: { url: 'https://127.0.0.1:43211', host: '127.0.0.1', port: 43211 } },
    { line: '{"level":"info","msg":"request"}', expected: undefined },
  ];
  for (const { line, expected } of lines) it(`reads "${line}"`, () => assert.deepEqual(parseListening(line), expected));

  it('recognises a busy port in the server\'s output', () => {
    assert.equal(mentionsPortInUse('Error: listen EADDRINUSE: address already in use 127.0.0.1:5000'), true);
    assert.equal(mentionsPortInUse('berth-registry: unknown key "foo"'), false);
    assert.equal(lastLine('a\n\nb\n  \n'), 'b');
  });

  const transitions: Array<[LocalState, LocalEvent, LocalState]> = [
    ['stopped', 'start', 'starting'],
    ['starting', 'ready', 'running'],
    ['running', 'stop', 'stopping'],
    ['stopping', 'exit', 'stopped'],
    ['running', 'exit', 'failed'],
    ['starting', 'error', 'failed'],
    ['failed', 'start', 'starting'],
    ['running', 'start', 'running'],
    ['stopped', 'ready', 'stopped'],
    ['stopping', 'error', 'stopped'],
  ];
  for (const [from, event, to] of transitions) it(`${from} --${event}--> ${to}`, () => assert.equal(nextState(from, event), to));
});
