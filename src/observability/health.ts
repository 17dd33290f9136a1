// Liveness, readiness and metrics over plain HTTP for the kubelet and Prometheus.
import http from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthChecks {
  /** Alive: the event loop answers. */
  live(): boolean;
  /**
   * Ready: caches are synced and the audit file takes records (a standby replica is ready too; it just does not
   * act).
   */
  ready(): boolean;
}

export function startProbeServer(address: string, checks: HealthChecks, registries: Registry[]) {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator);
  const port = Number(address.slice(separator + 1));
  const server = http.createServer(async (request, response) => {
    const reply = (status: number, body: string, type = 'text/plain') => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    switch (request.url) {
      case '/healthz':
      case '/livez':
        return checks.live() ? reply(200, 'ok') : reply(500, 'not alive');
      case '/readyz':
        return checks.ready()
          ? reply(200, 'ok')
          : reply(503, 'not ready: caches not synced, or the audit file cannot take records');
      case '/metrics': {
        const bodies = await Promise.all(registries.map((registry) => registry.metrics()));
        return reply(200, bodies.join('\n'), registries[0]?.contentType);
      }
      default:
        return reply(404, 'not found');
    }
  });
  return new Promise<http.Server>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
