// Citizen portal (mobile-first, public): submit a report with photos and a map pin, get the
// tracking code, follow it, rate the result.
//
// TODO(issue 5): the citizen-report API is being built. Until the lead publishes it, this screen
// uses placeholder paths: POST /api/v1/reports (multipart: JSON part "report" + "photos"),
// GET /api/v1/reports/track/{code}, POST /api/v1/reports/track/{code}/rating. Check the field
// names and categories (GET /open311/v2/services.json) against the real API when it lands.
import { useEffect, useState } from 'preact/hooks';
import { t, fmtDateTime, lang } from '../lib/i18n';
import { api, ApiError } from '../lib/api';
import { categoryLabel } from '../lib/labels';
import { LangSwitch } from '../components/Layout';
import { ErrorLine } from '../components/ErrorLine';
import { CityMap } from '../map/CityMap';

const CATEGORIES = ['security_order', 'traffic', 'urban_order', 'construction', 'sanitation', 'environment', 'lighting', 'roads', 'other'];
const MAX_PHOTOS = 5;

interface Tracked {
  code: string;
  status: string;
  category?: string;
  description?: string;
  updates?: { at: string; status: string; text?: string }[];
}

function pendingMessage(e: unknown): unknown {
  return e instanceof ApiError && (e.status === 404 || e.status === 405) ? new Error(t('portal.pending')) : e;
}

interface Service {
  service_code: string;
  service_name: string;
  description?: string;
}

/** The city's category catalogue from Open311 (GET /open311/v2/services.json) when the server
 *  has it, else the built-in list. */
function useCategories(): { code: string; name: string; hint?: string }[] {
  const [services, setServices] = useState<Service[] | null>(null);
  useEffect(() => {
    api<Service[]>(`/open311/v2/services.json?locale=${lang.value}`, { anonymous: true }).then(
      (s) => Array.isArray(s) && s.length > 0 && setServices(s),
      () => undefined,
    );
  }, [lang.value]);
  if (services) return services.map((s) => ({ code: s.service_code, name: s.service_name, hint: s.description }));
  return CATEGORIES.map((c) => ({ code: c, name: categoryLabel(c) }));
}

function Submit() {
  const categories = useCategories();
  const [pin, setPin] = useState<[number, number] | null>(null);
  const [emergency, setEmergency] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [code, setCode] = useState<string | null>(null);
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const photos = f.getAll('photos').filter((p): p is File => p instanceof File && p.size > 0);
    if (photos.length > MAX_PHOTOS) return setError(new Error(t('portal.tooMany')));
    const report: Record<string, unknown> = {
      category: f.get('category'),
      description: f.get('description'),
      emergency,
      lang: lang.value,
    };
    if (pin) Object.assign(report, { lat: pin[0], lon: pin[1] });
    const address = String(f.get('address') ?? '').trim();
    if (address) report.address = address;
    const body = new FormData();
    body.set('report', new Blob([JSON.stringify(report)], { type: 'application/json' }));
    photos.forEach((p) => body.append('photos', p, p.name));
    setBusy(true);
    setError(null);
    try {
      const r = await api<{ tracking_code?: string; code?: string }>('/api/v1/reports', { body, anonymous: true });
      setCode(r.tracking_code ?? r.code ?? '');
      form.reset();
      setPin(null);
    } catch (err) {
      setError(pendingMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="portal-form" onSubmit={onSubmit} aria-labelledby="portal-h">
      <h1 id="portal-h">{t('portal.title')}</h1>
      <p>{t('portal.intro')}</p>
      <label>
        {t('portal.category')}
        <select name="category" required>
          {categories.map((c) => (
            <option value={c.code} key={c.code} title={c.hint}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <label class="check">
        <input type="checkbox" checked={emergency} onChange={() => setEmergency((v) => !v)} />
        {t('portal.emergency')}
      </label>
      {emergency && (
        <p class="notice emergency" role="alert">
          {t('portal.emergencyHint')}
        </p>
      )}
      <label>
        {t('portal.description')}
        <textarea name="description" required minLength={10} maxLength={4000} rows={4} />
      </label>
      <p id="pin-label">{t('portal.location')}</p>
      <CityMap onPick={(lat, lon) => setPin([lat, lon])} pin={pin} label={t('portal.location')} class="portal-map" />
      {pin && <p class="hint">{t('portal.pin', { lat: pin[0].toFixed(5), lon: pin[1].toFixed(5) })}</p>}
      <label>
        {t('portal.address')}
        <input name="address" autoComplete="street-address" />
      </label>
      <label>
        {t('portal.photos')}
        <input name="photos" type="file" accept="image/jpeg,image/png,image/webp" multiple capture="environment" />
      </label>
      <button type="submit" class="primary" disabled={busy}>
        {busy ? t('portal.sending') : t('portal.submit')}
      </button>
      <ErrorLine error={error} />
      {code !== null && (
        <p class="notice" role="status">
          {t('portal.sent')} <strong class="code">{code}</strong>
        </p>
      )}
    </form>
  );
}

function Track() {
  const [item, setItem] = useState<Tracked | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [rated, setRated] = useState(false);
  const find = async (e: Event) => {
    e.preventDefault();
    const code = String(new FormData(e.currentTarget as HTMLFormElement).get('code') ?? '').trim();
    setError(null);
    setItem(null);
    try {
      setItem(await api<Tracked>(`/api/v1/reports/track/${encodeURIComponent(code)}`, { anonymous: true }));
    } catch (err) {
      setError(pendingMessage(err));
    }
  };
  const rate = async (e: Event) => {
    e.preventDefault();
    if (!item) return;
    const f = new FormData(e.currentTarget as HTMLFormElement);
    try {
      await api(`/api/v1/reports/track/${encodeURIComponent(item.code)}/rating`, { json: { rating: Number(f.get('rating')), fixed: f.get('fixed') === 'on' }, anonymous: true });
      setRated(true);
    } catch (err) {
      setError(pendingMessage(err));
    }
  };
  return (
    <section class="portal-track" aria-labelledby="track-h">
      <h2 id="track-h">{t('portal.track')}</h2>
      <form onSubmit={find} class="row">
        <label>
          {t('portal.code')}
          <input name="code" required autoCapitalize="characters" />
        </label>
        <button type="submit">{t('portal.find')}</button>
      </form>
      <ErrorLine error={error} />
      {item && (
        <div class="tracked">
          <p>
            {t('portal.status')}: <strong>{item.status}</strong>
          </p>
          <ol class="timeline">
            {(item.updates ?? []).map((u, i) => (
              <li key={i}>
                <time>{fmtDateTime(u.at)}</time> {u.status} {u.text && <q>{u.text}</q>}
              </li>
            ))}
          </ol>
          {!rated && (
            <form onSubmit={rate} class="rating">
              <fieldset>
                <legend>{t('portal.rate')}</legend>
                {[1, 2, 3, 4, 5].map((n) => (
                  <label key={n} class="check">
                    <input type="radio" name="rating" value={n} required />
                    {'★'.repeat(n)}
                  </label>
                ))}
              </fieldset>
              <label class="check">
                <input type="checkbox" name="fixed" />
                {t('portal.fixed')}
              </label>
              <button type="submit">{t('portal.rate')}</button>
            </form>
          )}
        </div>
      )}
    </section>
  );
}

export function Portal() {
  return (
    <div class="portal">
      <header class="portal-top">
        <a href="#/overview" class="brand">
          CityIOC · {t('cityName')}
        </a>
        <LangSwitch />
      </header>
      <main id="main">
        <Submit />
        <Track />
      </main>
    </div>
  );
}

