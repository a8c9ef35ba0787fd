import * as assert from 'node:assert/strict';
import { classifyEngineMessage, EngineError, engineErrorFrom, fromDockerodeError, withoutCredentials } from '../../../src/engine/errors';

describe('engine: error classification', () => {
  const table: Array<{ message: string; status?: number; kind: string }> = [
    { message: 'unauthorized: authentication required', kind: 'unauthorized' },
    { message: 'no basic auth credentials', kind: 'unauthorized' },
    { message: 'Get "https://r/v2/": unauthorized: incorrect username or password', kind: 'unauthorized' },
    { message: 'denied: requested access to the resource is denied', kind: 'denied' },
    { message: "pull access denied for nope, repository does not exist or may require 'docker login'", kind: 'denied' },
    { message: 'manifest for 127.0.0.1:5000/x:nope not found: manifest unknown: manifest unknown', kind: 'not-found' },
    { message: 'No such image: nothing:here', kind: 'not-found' },
    { message: 'No such image: 127.0.0.1:5000/e2e/denied:1', status: 404, kind: 'not-found' },
    { message: 'An image does not exist locally with the tag: 127.0.0.1:5000/x', kind: 'not-found' },
    { message: 'Get "https://127.0.0.1:5000/v2/": http: server gave HTTP response to HTTPS client', kind: 'registry-unreachable' },
    { message: 'dial tcp: lookup nowhere.invalid: no such host', kind: 'registry-unreachable' },
    { message: 'conflict: unable to delete 0123456789ab (must be forced) - image is referenced in multiple repositories', kind: 'conflict' },
    { message: 'invalid reference format', kind: 'invalid-reference' },
    { message: 'toomanyrequests: You have reached your pull rate limit.', kind: 'rate-limited' },
    { message: 'toomanyrequests: too many failed logins from this address; try again in 60 s', kind: 'rate-limited' },
    { message: 'something odd', status: 429, kind: 'rate-limited' },
    { message: 'something odd', status: 404, kind: 'not-found' },
    { message: 'something odd', status: 409, kind: 'conflict' },
    { message: 'something odd', status: 500, kind: 'failed' },
  ];
  for (const { message, status, kind } of table) {
    it(`classifies "${message.slice(0, 50)}"${status ? ` (${status})` : ''} as ${kind}`, () => assert.equal(classifyEngineMessage(message, status), kind));
  }

  const unreachable: Array<{ message: string; advice: RegExp }> = [
    // Words dockerd 20.10 writes (the refused connection as this machine's engine says it).
    { message: 'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', advice: /Nothing is listening at that address: check the host and port, and that the registry is running\.$/ },
    { message: 'Get "https://registry.example:5000/v2/": http: server gave HTTP response to HTTPS client', advice: /list it in the engine's insecure-registries \(daemon\.json\)/ },
    { message: 'Get "https://registry.example/v2/": x509: certificate signed by unknown authority', advice: /put its CA in \/etc\/docker\/certs\.d\/<host:port>\/ca\.crt/ },
    { message: 'Get "https://nowhere.invalid/v2/": dial tcp: lookup nowhere.invalid: no such host', advice: /cannot resolve that host name/ },
  ];
  for (const { message, advice } of unreachable) {
    it(`advises on "${message.slice(-45)}" for what it is, and names insecure-registries only when the engine refused plain HTTP`, () => {
      const e = engineErrorFrom('Pushing x', message);
      assert.equal(e.kind, 'registry-unreachable');
      assert.match(e.message, advice);
      assert.equal(/insecure-registries/.test(e.message), /HTTP response to HTTPS/.test(message));
    });
  }

  const conn: Array<{ code: string; hint: RegExp }> = [
    { code: 'ENOENT', hint: /there is no socket at unix:\/\/\/nowhere\.sock\. Start Docker/ },
    { code: 'ECONNREFUSED', hint: /nothing is listening at unix:\/\/\/nowhere\.sock/ },
    { code: 'EACCES', hint: /permission denied on unix:\/\/\/nowhere\.sock\. Add your user to the "docker" group/ },
  ];
  for (const { code, hint } of conn) {
    it(`turns a connection ${code} into a no-engine error a person can act on`, () => {
      const e = fromDockerodeError('Listing images', Object.assign(new Error(`connect ${code} /nowhere.sock`), { code }), 'unix:///nowhere.sock');
      assert.equal(e.kind, 'no-engine');
      assert.match(e.message, hint);
    });
  }

  it('reads the engine message from dockerode\'s JSON body and keeps the status', () => {
    const err = Object.assign(new Error('(HTTP code 404) no such image - No such image: x:y '), { statusCode: 404, json: { message: 'No such image: x:y' } });
    const e = fromDockerodeError('Tagging x:y as z', err, 'unix:///s');
    assert.equal(e.kind, 'not-found');
    assert.equal(e.statusCode, 404);
    assert.equal(e.engineMessage, 'No such image: x:y');
    assert.match(e.message, /^Tagging x:y as z failed: No such image: x:y\. Check the image name and tag\.$/);
  });

  it('reads "denied" as "sign in first" only when no credentials were sent', () => {
    const denied = engineErrorFrom('Pushing r/a:1', 'denied: requested access to the resource is denied');
    const anonymous = withoutCredentials(denied, false);
    assert.equal(anonymous.kind, 'unauthorized');
    assert.equal(anonymous.message, 'Pushing r/a:1 failed: denied: requested access to the resource is denied. No credentials were sent: sign in to the registry with a valid username and password or token.');
    assert.equal(withoutCredentials(denied, true), denied);
    const missing = engineErrorFrom('Pulling r/a:1', 'manifest unknown');
    assert.equal(withoutCredentials(missing, false), missing);
  });

  it('calls anything after an abort a cancellation', () => {
    const ac = new AbortController();
    ac.abort();
    const e = fromDockerodeError('Pushing a', new Error('socket hang up'), 'unix:///s', ac.signal);
    assert.equal(e.kind, 'cancelled');
    const same = new EngineError('denied', 'x');
    assert.equal(fromDockerodeError('y', same, 'z'), same);
  });
});
