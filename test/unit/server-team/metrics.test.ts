import * as assert from 'node:assert/strict';
import { MetricsRegistry } from '../../../src/server/metrics/prometheus';
import { RegistryMetrics } from '../../../src/server/metrics/registryMetrics';
import type { RequestRecord } from '../../../src/server/hooks';

const record = (over: Partial<RequestRecord> = {}): RequestRecord => ({
  id: 'r1', route: 'manifests', method: 'GET', path: '/v2/a/manifests/latest', status: 200, bytesIn: 120, bytesOut: 900,
  durationMs: 12.345, remoteAddr: '127.0.0.1', userAgent: 'docker/27', ...over,
});

describe('metrics: prometheus text', () => {
  it('renders counters with sorted, escaped labels', () => {
    const r = new MetricsRegistry();
    const c = r.counter('x_total', 'Things.');
    c.inc({ b: '2', a: 'quote"back\\slash\nline' });
    c.inc({ b: '2', a: 'quote"back\\slash\nline' }, 2);
    assert.equal(r.render(), '# HELP x_total Things.\n# TYPE x_total counter\nx_total{a="quote\\"back\\\\slash\\nline",b="2"} 3\n');
  });

  it('renders histogram buckets cumulatively with +Inf, sum and count', () => {
    const r = new MetricsRegistry();
    const h = r.histogram('d_seconds', 'D.', [0.1, 1]);
    h.observe({ route: 'x' }, 0.05);
    h.observe({ route: 'x' }, 0.5);
    h.observe({ route: 'x' }, 5);
    const text = r.render();
    for (const line of ['d_seconds_bucket{le="0.1",route="x"} 1', 'd_seconds_bucket{le="1",route="x"} 2', 'd_seconds_bucket{le="+Inf",route="x"} 3', 'd_seconds_sum{route="x"} 5.55', 'd_seconds_count{route="x"} 3']) {
      assert.ok(text.includes(`${line}\n`), `missing ${line} in\n${text}`);
    }
  });

  it('reads gauges at scrape time', () => {
    const r = new MetricsRegistry();
    let inFlight = 1;
    r.gauge('g', 'G.', () => [{ value: inFlight }]);
    assert.match(r.render(), /^g 1$/m);
    inFlight = 4;
    assert.match(r.render(), /^g 4$/m);
  });

  it('refuses the same metric name twice', () => {
    const r = new MetricsRegistry();
    r.counter('a', 'A');
    assert.throws(() => r.counter('a', 'A'), /registered twice/);
  });
});

describe('metrics: registry requests', () => {
  it('counts requests by route, method and status, and bytes by route', () => {
    const m = new RegistryMetrics();
    m.observe(record());
    m.observe(record({ status: 404 }));
    m.observe(record());
    assert.equal(m.requests.get({ route: 'manifests', method: 'GET', status: '200' }), 2);
    assert.equal(m.requests.get({ route: 'manifests', method: 'GET', status: '404' }), 1);
    assert.equal(m.bytesOut.get({ route: 'manifests' }), 2700);
    assert.match(m.render(), /^berth_http_requests_total\{method="GET",route="manifests",status="200"\} 2$/m);
  });
});
