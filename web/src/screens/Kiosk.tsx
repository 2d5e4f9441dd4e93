// Video-wall mode (?kiosk=1): no navigation, large type, a playlist of screens that rotates
// (?screens=overview,map&interval=60), a full page reload every few hours to keep memory flat
// (?reload=6, hours; only while nothing is taking over), and a critical alert (?takeover=Extreme,
// comma list of severities) taking over the screen until someone acknowledges it.
import { useEffect, useState } from 'preact/hooks';
import type { FunctionComponent } from 'preact';
import { t, fmtTime, fmtDateTime } from '../lib/i18n';
import type { Key } from '../lib/strings';
import { query } from '../lib/router';
import { now } from '../lib/clock';
import { can } from '../lib/session';
import { LiveBadge } from '../components/Fresh';
import { LangSwitch } from '../components/Layout';
import { errorText } from '../components/ErrorLine';
import { Overview } from './Overview';
import { openAlerts, alertAction, useAlertFeed, type Alert } from '../stores/alerts';

const PLAYLIST: Record<string, () => Promise<FunctionComponent>> = {
  overview: async () => Overview,
  map: () => import('./MapScreen').then((m) => m.MapScreen),
  ops: () => import('./Ops').then((m) => m.Ops),
  indicators: () => import('./Indicators').then((m) => m.Indicators),
};

const screens = (query.get('screens') ?? 'overview,map').split(',').filter((s) => s in PLAYLIST);
if (screens.length === 0) screens.push('overview');
const intervalMs = Math.max(10, Number(query.get('interval') ?? 60) || 60) * 1000;
const reloadMs = Math.max(0.1, Number(query.get('reload') ?? 6) || 6) * 3600_000;
const takeoverLevels = new Set((query.get('takeover') ?? 'Extreme').split(','));

function Takeover({ alert, waiting }: { alert: Alert; waiting: number }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ack = async () => {
    setBusy(true);
    setError(null);
    try {
      await alertAction(alert.id, 'acknowledge', 'acknowledged on the video wall');
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="takeover" role="alertdialog" aria-modal="true" aria-labelledby="takeover-h" aria-describedby="takeover-d" data-alert-id={alert.id}>
      <p class="takeover-kicker">
        {t('kiosk.takeover')} · {t(`sev.${alert.severity}` as Key)}
        {waiting > 1 && ` · 1/${waiting}`}
      </p>
      <h1 id="takeover-h">{alert.headline}</h1>
      <p id="takeover-d">{alert.description}</p>
      <p class="takeover-meta">
        {t('ops.since')}: {fmtDateTime(alert.firstSeen)} · {alert.subject}
        {alert.count > 1 && ` · ${t('ops.count', { n: alert.count })}`}
      </p>
      {can('alerts:manage') ? (
        <button type="button" class="ack" onClick={ack} disabled={busy} autoFocus>
          {t('kiosk.ack')}
        </button>
      ) : (
        <p>{t('kiosk.noAck')}</p>
      )}
      {error && <p role="alert">{error}</p>}
    </div>
  );
}

export function Kiosk() {
  useAlertFeed();
  const [index, setIndex] = useState(0);
  const [C, setC] = useState<FunctionComponent | null>(() => (screens[0] === 'overview' ? Overview : null));
  const criticals = openAlerts.value.filter((a) => a.status === 'new' && takeoverLevels.has(a.severity));
  const critical = criticals[0];

  useEffect(() => {
    let alive = true;
    void PLAYLIST[screens[index]!]!().then((c) => alive && setC(() => c));
    return () => {
      alive = false;
    };
  }, [index]);
  useEffect(() => {
    if (screens.length < 2 || critical) return;
    const id = window.setTimeout(() => setIndex((i) => (i + 1) % screens.length), intervalMs);
    return () => window.clearTimeout(id);
  }, [index, !!critical]);
  useEffect(() => {
    const started = Date.now();
    const id = window.setInterval(() => {
      if (Date.now() - started > reloadMs && !document.querySelector('.takeover')) location.reload();
    }, 60_000);
    return () => window.clearInterval(id);
  }, []);
  useEffect(() => {
    // On <html>: rem units follow the wall's size.
    document.documentElement.classList.add('kiosk');
    return () => document.documentElement.classList.remove('kiosk');
  }, []);

  return (
    <div class="kiosk-shell" data-screen={screens[index]}>
      <header class="kiosk-top">
        <strong>CityIOC · {t('cityName')}</strong>
        <span class="kiosk-screen">{screens.length > 1 && `${index + 1}/${screens.length}`}</span>
        <time class="kiosk-clock">{fmtTime(now.value)}</time>
        <LiveBadge />
        <LangSwitch />
        {screens.length > 1 && (
          <button type="button" class="link" onClick={() => setIndex((i) => (i + 1) % screens.length)}>
            {t('kiosk.next')}
          </button>
        )}
      </header>
      <main id="main" aria-hidden={critical ? 'true' : undefined}>
        {C ? <C /> : <p class="loading">{t('loading')}</p>}
      </main>
      {critical && <Takeover alert={critical} waiting={criticals.length} key={critical.id} />}
    </div>
  );
}
