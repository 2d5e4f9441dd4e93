// Hash routes (#/map, #/ops …): the server serves one index.html, so deep links need no
// server-side fallback. ?kiosk=1 (in the real query string) turns on the video-wall mode.
import { signal } from '@preact/signals';

export type Route = 'overview' | 'map' | 'ops' | 'indicators' | 'admin' | 'portal' | 'login';
export const ROUTES: Route[] = ['overview', 'map', 'ops', 'indicators', 'admin', 'portal', 'login'];

function parse(): { route: Route; params: URLSearchParams } {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = raw.split('?');
  const route = (ROUTES as string[]).includes(path) ? (path as Route) : 'overview';
  return { route, params: new URLSearchParams(query) };
}

export const current = signal(parse());
window.addEventListener('hashchange', () => (current.value = parse()));

export function go(route: Route, params?: Record<string, string>): void {
  const q = params ? new URLSearchParams(params).toString() : '';
  location.hash = `#/${route}${q ? `?${q}` : ''}`;
}

export const query = new URLSearchParams(location.search);
export const kiosk = query.get('kiosk') === '1';
