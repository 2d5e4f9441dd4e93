// Open alerts (GET /api/v1/alerts?status=open), kept current by the `alerts` topic.
import { signal, computed } from '@preact/signals';
import { api, qs } from '../lib/api';
import { onTopic, resyncs } from '../lib/live';
import { pushEvent } from './events';
import { can } from '../lib/session';

export type Severity = 'Extreme' | 'Severe' | 'Moderate' | 'Minor' | 'Unknown';
export const SEVERITIES: Severity[] = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'];

export interface Transition {
  from?: string;
  to: string;
  by: string;
  at: string;
  note?: string;
}
export interface Alert {
  id: string;
  ruleId: string;
  subject: string;
  status: 'new' | 'acknowledged' | 'resolved' | 'closed';
  category: string;
  severity: Severity;
  urgency: string;
  headline: string;
  description?: string;
  onset: string;
  firstSeen: string;
  lastSeen: string;
  count: number;
  value: number | null;
  area?: { type: string; coordinates: unknown };
  unitCode?: string;
  history?: Transition[];
}

const byId = signal<Map<string, Alert>>(new Map());
export const alertsLoadedAt = signal(0);
export const alertsError = signal<unknown>(null);

const rank = (s: Severity) => SEVERITIES.indexOf(s);
/** Open alerts, most severe first, then newest. */
export const openAlerts = computed(() =>
  [...byId.value.values()]
    .filter((a) => a.status === 'new' || a.status === 'acknowledged')
    .sort((a, b) => rank(a.severity) - rank(b.severity) || b.lastSeen.localeCompare(a.lastSeen)),
);

export function upsertAlert(a: Alert): void {
  const m = new Map(byId.value);
  if (a.status === 'resolved' || a.status === 'closed') m.delete(a.id);
  else m.set(a.id, a);
  byId.value = m;
}

export async function loadAlerts(): Promise<void> {
  if (!can('alerts:read')) return;
  try {
    const list = await api<Alert[]>(`/api/v1/alerts${qs({ status: 'open', limit: 1000 })}`);
    byId.value = new Map(list.map((a) => [a.id, a]));
    alertsError.value = null;
    alertsLoadedAt.value = Date.now();
  } catch (e) {
    alertsError.value = e;
  }
}

export async function alertAction(id: string, action: 'acknowledge' | 'resolve' | 'close', note?: string): Promise<Alert> {
  const a = await api<Alert>(`/api/v1/alerts/${encodeURIComponent(id)}/${action}`, { json: note ? { note } : {} });
  upsertAlert(a);
  return a;
}

onTopic('alerts', (e) => {
  const a = e.data as unknown as Alert;
  if (!a || typeof a.id !== 'string') return;
  const known = byId.value.get(a.id);
  upsertAlert(a);
  if (!known || known.status !== a.status) {
    pushEvent({ kind: 'alert', id: a.id, title: a.headline, level: a.severity, status: a.status, at: Date.now() });
  }
});

let started = false;
export function useAlertFeed(): void {
  if (started) return;
  started = true;
  void loadAlerts();
  resyncs.subscribe((n) => n > 0 && void loadAlerts());
}
