import type { LocalStatus } from '../app/ports';

/** The local registry's state and port in the status bar; a click opens its actions. */
export function statusText(s: LocalStatus): { text: string; tooltip: string } {
  switch (s.state) {
    case 'running':
      return { text: `$(server-environment) Registry :${s.port ?? '?'}`, tooltip: `Berth local registry running on 127.0.0.1:${s.port ?? '?'}. Click for actions.` };
    case 'starting':
      return { text: '$(loading~spin) Registry starting', tooltip: 'Berth local registry is starting.' };
    case 'stopping':
      return { text: '$(loading~spin) Registry stopping', tooltip: 'Berth local registry is finishing requests in flight.' };
    case 'failed':
      if (s.crashed) return { text: '$(error) Registry stopped unexpectedly', tooltip: `${s.message ?? 'Berth local registry stopped unexpectedly'}. Click for actions.` };
      return { text: '$(error) Registry failed', tooltip: `Berth local registry failed: ${s.message ?? 'see the logs'}. Click for actions.` };
    case 'stopped':
      return { text: '$(circle-slash) Registry stopped', tooltip: 'Berth local registry is stopped. Click to start it.' };
  }
}
