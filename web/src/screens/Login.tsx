import { useState } from 'preact/hooks';
import { t } from '../lib/i18n';
import { login, expired } from '../lib/session';
import { ApiError } from '../lib/api';
import { kiosk } from '../lib/router';
import { LangSwitch } from '../components/Layout';
import { errorText } from '../components/ErrorLine';

export function Login() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      await login(String(f.get('username') ?? ''), String(f.get('password') ?? ''), f.get('remember') === 'on');
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? t('login.bad') : errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="login-page">
      <div class="login-lang">
        <LangSwitch />
      </div>
      <form class="login card" onSubmit={onSubmit} aria-labelledby="login-h">
        <h1 id="login-h">
          CityIOC <span class="sub">{t('appName')}</span>
        </h1>
        <h2>{t('login.title')}</h2>
        {expired.value && <p class="notice">{t('login.expired')}</p>}
        <label>
          {t('login.username')}
          <input name="username" autoComplete="username" required autoFocus />
        </label>
        <label>
          {t('login.password')}
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <label class="check">
          <input type="checkbox" name="remember" defaultChecked={kiosk} />
          {t('login.remember')}
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('login.busy') : t('login.submit')}
        </button>
        <p class="hint">
          {t('login.portal')} <a href="#/portal">{t('nav.portal')}</a>
        </p>
      </form>
    </main>
  );
}
