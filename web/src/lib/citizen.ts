// A signed-in citizen in the portal: registration (POST /api/v1/citizens), "my reports" (filed or
// followed, GET /api/v1/citizens/me/reports) and the live notices about them (the stream's
// `notifications` topic: the server sends a citizen only notices about their own or followed
// reports). The list reloads when a notice arrives and after every (re)subscription, so a change
// made while the phone was offline still shows.
import { signal } from '@preact/signals';
import { api, qs } from './api';
import { login, me } from './session';
import { onTopic, want, subscribedTopics, type LiveEvent } from './live';
import type { CitizenReport } from './reports';

/** Huế (province-level city code): the unit a citizen signs up in from this portal. */
export const CITY_UNIT = '46';

export interface MyReport extends CitizenReport {
  relation: 'reporter' | 'follower';
}

export async function registerCitizen(username: string, password: string, persistent: boolean): Promise<void> {
  await api('/api/v1/citizens', { json: { username, password, unit_code: CITY_UNIT }, anonymous: true });
  await login(username, password, persistent);
}

export const myReports = signal<MyReport[] | null>(null);
export const myReportsError = signal<unknown>(null);
export const myReportsAt = signal(0);

let loading: Promise<void> | null = null;
let again = false;
/** Reloads the list; calls made while a load is running are folded into one more load. */
export function loadMyReports(): Promise<void> {
  if (!me.value) {
    myReports.value = null;
    return Promise.resolve();
  }
  if (loading) {
    again = true;
    return loading;
  }
  loading = (async () => {
    do {
      again = false;
      try {
        const r = await api<{ items: MyReport[] }>(`/api/v1/citizens/me/reports${qs({ limit: 100 })}`);
        myReports.value = r.items;
        myReportsError.value = null;
        myReportsAt.value = Date.now();
      } catch (e) {
        myReportsError.value = e;
      }
    } while (again && me.value);
  })().finally(() => (loading = null));
  return loading;
}

export interface Notice {
  n: number;
  reportId: string;
  status: string;
  type: string;
  title: string;
  body: string;
  at: number;
}
/** Newest first, at most 3 shown. */
export const notices = signal<Notice[]>([]);
let counter = 0;

export function dismissNotice(n: number): void {
  notices.value = notices.value.filter((x) => x.n !== n);
}

function onNotice(e: LiveEvent): void {
  const d = e.data as { title?: unknown; body?: unknown; data?: { report_id?: unknown; status?: unknown } };
  const reportId = typeof d.data?.report_id === 'string' ? d.data.report_id : e.key.startsWith('report:') ? e.key.slice(7) : '';
  if (!reportId) return;
  const notice: Notice = {
    n: ++counter,
    reportId,
    status: typeof d.data?.status === 'string' ? d.data.status : '',
    type: e.type,
    title: typeof d.title === 'string' ? d.title : '',
    body: typeof d.body === 'string' ? d.body : '',
    at: Date.now(),
  };
  // One notice per report: the latest news replaces the older one.
  notices.value = [notice, ...notices.value.filter((x) => x.reportId !== reportId)].slice(0, 3);
  void loadMyReports();
}

/** Follows the `notifications` topic while the portal is open for a signed-in citizen; returns
 *  the function that stops. */
export function followNotices(): () => void {
  const off = onTopic('notifications', onNotice);
  const release = want('notifications');
  // Each (re)subscription: reload, as notices sent while disconnected are not replayed.
  let had = false;
  const stop = subscribedTopics.subscribe((set) => {
    const has = set.has('notifications');
    if (has && !had) void loadMyReports();
    had = has;
  });
  return () => {
    stop();
    release();
    off();
    notices.value = [];
  };
}
