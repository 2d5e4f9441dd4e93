// The frame of every staff screen: skip link, header with navigation, live status, language
// switch and the signed-in user.
import type { ComponentChildren } from 'preact';
import { t, lang, setLang } from '../lib/i18n';
import type { Key } from '../lib/strings';
import { current, type Route } from '../lib/router';
import { me, can, logout } from '../lib/session';
import { LiveBadge } from './Fresh';
import { errorText } from './ErrorLine';
import { sensorsError } from '../stores/sensors';
import { alertsError } from '../stores/alerts';
import { incidentsError } from '../stores/incidents';

/** Snapshot loads that failed (the live stream retries them on its next reconnection). */
function LoadErrors() {
  const errors = [sensorsError.value, alertsError.value, incidentsError.value].filter(Boolean);
  if (errors.length === 0) return null;
  return (
    <p class="error banner" role="alert">
      {errors.map((e) => errorText(e)).join(' · ')}
    </p>
  );
}

const NAV: { route: Route; label: Key; permission?: string }[] = [
  { route: 'overview', label: 'nav.overview' },
  { route: 'map', label: 'nav.map', permission: 'context:read' },
  { route: 'ops', label: 'nav.ops', permission: 'alerts:read' },
  { route: 'indicators', label: 'nav.indicators' },
  { route: 'admin', label: 'nav.admin' },
  { route: 'portal', label: 'nav.portal' },
];

export function LangSwitch() {
  const other = lang.value === 'vi' ? 'en' : 'vi';
  return (
    <button type="button" class="lang" lang={other} aria-label={t('switchLangLabel')} onClick={() => setLang(other)}>
      {t('switchLang')}
    </button>
  );
}

export function Layout({ children }: { children: ComponentChildren }) {
  const route = current.value.route;
  const who = me.value;
  return (
    <div class="shell">
      <a class="skip" href="#main">
        {t('skip')}
      </a>
      <header class="top">
        <div class="brand">
          <strong>CityIOC</strong>
          <span class="brand-sub">{t('cityName')}</span>
        </div>
        <nav aria-label={t('nav.main')}>
          <ul>
            {NAV.filter((n) => !n.permission || can(n.permission)).map((n) => (
              <li key={n.route}>
                <a href={`#/${n.route}`} aria-current={route === n.route ? 'page' : undefined}>
                  {t(n.label)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="top-right">
          <LiveBadge />
          <a class="kiosk-link" href="?kiosk=1#/overview" title={t('nav.kiosk')}>
            {t('nav.kiosk')}
          </a>
          <LangSwitch />
          {who && (
            <span class="who">
              {who.name}
              {who.role && <small> · {t(`role.${who.role}` as Key)}</small>}
            </span>
          )}
          <button type="button" class="link" onClick={() => void logout()}>
            {t('nav.logout')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <LoadErrors />
        {children}
      </main>
    </div>
  );
}
