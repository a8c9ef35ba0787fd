/**
 * The registry's own metrics, fed by the server's per-request records.
 * Label values come from route names and status codes only (never paths or repository names),
 * so the number of series stays bounded whatever clients send.
 */
import type { MetricsHook, RequestRecord } from '../hooks';
import { MetricsRegistry, type Counter, type Histogram, type Labels } from './prometheus';

const DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class RegistryMetrics implements MetricsHook {
  readonly registry = new MetricsRegistry();
  readonly requests: Counter;
  readonly duration: Histogram;
  readonly bytesIn: Counter;
  readonly bytesOut: Counter;
  readonly failedLogins: Counter;
  readonly cache: Counter;
  readonly upstreamErrors: Counter;

  constructor() {
    const r = this.registry;
    this.requests = r.counter('berth_http_requests_total', 'HTTP requests answered, by route, method and status.');
    this.duration = r.histogram('berth_http_request_duration_seconds', 'Time to answer a request, by route.', DURATION_BUCKETS_SECONDS);
    this.bytesIn = r.counter('berth_http_received_bytes_total', 'Bytes received from clients (request heads and bodies), by route.');
    this.bytesOut = r.counter('berth_http_sent_bytes_total', 'Bytes sent to clients (response heads and bodies), by route.');
    this.failedLogins = r.counter('berth_auth_failed_logins_total', 'Logins refused for a wrong user name or password.');
    this.upstreamErrors = r.counter('berth_proxy_upstream_errors_total', 'Pull-through requests to the upstream that failed (unreachable, timed out, 5xx).');
    this.cache = r.counter('berth_proxy_cache_requests_total', 'Pull-through cache lookups, by kind (manifest, blob) and result (hit, miss, stale).');
  }

  observe(record: RequestRecord): void {
    const route: Labels = { route: record.route };
    this.requests.inc({ ...route, method: record.method, status: String(record.status) });
    this.duration.observe(route, record.durationMs / 1000);
    this.bytesIn.inc(route, record.bytesIn);
    this.bytesOut.inc(route, record.bytesOut);
  }

  render(): string {
    return this.registry.render();
  }
}
