// Administration: users, API keys, devices, rules, SOP templates and routing tables. Plain
// lists and small forms over the existing API; each tab shows only what the account may see.
import { useEffect, useState } from 'preact/hooks';
import { Fragment, type JSX } from 'preact';
import { t, fmtDateTime } from '../lib/i18n';
import type { Key } from '../lib/strings';
import { api, qs } from '../lib/api';
import { can, me } from '../lib/session';
import { ErrorLine } from '../components/ErrorLine';

type Tab = 'users' | 'keys' | 'devices' | 'rules' | 'sop' | 'routing';
const TABS: { id: Tab; label: Key; permission: string }[] = [
  { id: 'users', label: 'admin.users', permission: 'users:read' },
  { id: 'keys', label: 'admin.keys', permission: 'keys:manage' },
  { id: 'devices', label: 'admin.devices', permission: 'ingest' },
  { id: 'rules', label: 'admin.rules', permission: 'alerts:read' },
  { id: 'sop', label: 'admin.sop', permission: 'incidents:read' },
  { id: 'routing', label: 'admin.routing', permission: 'incidents:read' },
];
const ROLES = ['admin', 'leader', 'supervisor', 'operator', 'agency_staff', 'citizen'];

function useLoad<T>(path: string | null, deps: unknown[] = []): { data: T | null; error: unknown; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!path) return;
    setError(null);
    api<T>(path).then(setData, setError);
  }, [path, n, ...deps]);
  return { data, error, reload: () => setN((x) => x + 1) };
}

function Users() {
  interface User { id: number; username: string; role: string; unit_code: string | null; disabled: boolean; created_at: string }
  const { data, error, reload } = useLoad<{ items: User[] } | User[]>(`/api/v1/users${qs({ limit: 200 })}`);
  const [formError, setFormError] = useState<unknown>(null);
  const users = Array.isArray(data) ? data : data?.items ?? [];
  const manage = can('users:manage');
  const add = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    setFormError(null);
    try {
      await api('/api/v1/users', { json: { username: f.get('username'), password: f.get('password'), role: f.get('role'), unit_code: f.get('unit_code') || undefined } });
      form.reset();
      reload();
    } catch (err) {
      setFormError(err);
    }
  };
  const toggle = async (u: User) => {
    try {
      await api(`/api/v1/users/${u.id}`, { method: 'PATCH', json: { disabled: !u.disabled } });
      reload();
    } catch (err) {
      setFormError(err);
    }
  };
  return (
    <>
      <ErrorLine error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">{t('admin.username')}</th>
            <th scope="col">{t('admin.role')}</th>
            <th scope="col">{t('admin.unitCode')}</th>
            <th scope="col">{t('admin.status')}</th>
            <th scope="col">{t('admin.created')}</th>
            {manage && <th scope="col" />}
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id}>
              <td>{u.username}</td>
              <td>{t(`role.${u.role}` as Key)}</td>
              <td>{u.unit_code ?? '—'}</td>
              <td>{u.disabled ? t('admin.disabled') : t('admin.active')}</td>
              <td>{fmtDateTime(u.created_at)}</td>
              {manage && (
                <td>
                  {String(u.id) !== String(me.value?.id) && (
                    <button type="button" class="link" onClick={() => toggle(u)}>
                      {u.disabled ? t('admin.enable') : t('admin.disable')}
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {manage && (
        <form class="inline-form" onSubmit={add} aria-label={t('admin.addUser')}>
          <h3>{t('admin.addUser')}</h3>
          <label>
            {t('admin.username')}
            <input name="username" required autoComplete="off" />
          </label>
          <label>
            {t('login.password')}
            <input name="password" type="password" required minLength={12} autoComplete="new-password" />
          </label>
          <label>
            {t('admin.role')}
            <select name="role">
              {ROLES.map((r) => (
                <option value={r} key={r}>
                  {t(`role.${r}` as Key)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('admin.unit')}
            <input name="unit_code" inputMode="numeric" defaultValue={me.value?.unit_code ?? ''} />
          </label>
          <button type="submit" class="primary">
            {t('admin.addUser')}
          </button>
          <ErrorLine error={formError} />
        </form>
      )}
    </>
  );
}

function Keys() {
  interface ApiKey { id: number; name: string; scope: string; unit_code: string | null; prefix: string; revoked: boolean; created_at: string }
  const { data, error, reload } = useLoad<{ items: ApiKey[] } | ApiKey[]>('/api/v1/keys');
  const [secret, setSecret] = useState<string | null>(null);
  const [formError, setFormError] = useState<unknown>(null);
  const keys = Array.isArray(data) ? data : data?.items ?? [];
  const add = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    setFormError(null);
    try {
      const r = await api<{ key: string }>('/api/v1/keys', { json: { name: f.get('name'), scope: f.get('scope'), unit_code: f.get('unit_code') || undefined } });
      setSecret(r.key);
      form.reset();
      reload();
    } catch (err) {
      setFormError(err);
    }
  };
  const revoke = async (k: ApiKey) => {
    try {
      await api(`/api/v1/keys/${k.id}`, { method: 'DELETE' });
      reload();
    } catch (err) {
      setFormError(err);
    }
  };
  return (
    <>
      <ErrorLine error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">{t('admin.name')}</th>
            <th scope="col">{t('admin.scope')}</th>
            <th scope="col">{t('admin.unitCode')}</th>
            <th scope="col">Prefix</th>
            <th scope="col">{t('admin.status')}</th>
            <th scope="col" />
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td>{k.scope}</td>
              <td>{k.unit_code ?? '—'}</td>
              <td>
                <code>{k.prefix}</code>
              </td>
              <td>{k.revoked ? t('admin.revoked') : t('admin.active')}</td>
              <td>
                {!k.revoked && (
                  <button type="button" class="link" onClick={() => revoke(k)}>
                    {t('admin.revoke')}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="inline-form" onSubmit={add} aria-label={t('admin.addKey')}>
        <h3>{t('admin.addKey')}</h3>
        <label>
          {t('admin.name')}
          <input name="name" required />
        </label>
        <label>
          {t('admin.scope')}
          <select name="scope">
            {['ingest', 'read', 'integration'].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          {t('admin.unit')}
          <input name="unit_code" inputMode="numeric" />
        </label>
        <button type="submit" class="primary">
          {t('admin.addKey')}
        </button>
        <ErrorLine error={formError} />
        {secret && (
          <p class="notice" role="status">
            {t('admin.keyOnce')} <code>{secret}</code>
          </p>
        )}
      </form>
    </>
  );
}

function JsonTable<T extends Record<string, unknown>>({ rows, cols }: { rows: T[]; cols: { label: string; get: (r: T) => unknown }[] }) {
  const [open, setOpen] = useState<number | null>(null);
  return (
    <table>
      <thead>
        <tr>
          {cols.map((c) => (
            <th scope="col" key={c.label}>
              {c.label}
            </th>
          ))}
          <th scope="col" />
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <Fragment key={i}>
            <tr>
              {cols.map((c) => (
                <td key={c.label}>{String(c.get(r) ?? '—')}</td>
              ))}
              <td>
                <button type="button" class="link" aria-expanded={open === i} onClick={() => setOpen(open === i ? null : i)}>
                  {t('admin.show')}
                </button>
              </td>
            </tr>
            {open === i && (
              <tr>
                <td colSpan={cols.length + 1}>
                  <pre class="json">{JSON.stringify(r, null, 2)}</pre>
                </td>
              </tr>
            )}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}

function Devices() {
  const { data, error } = useLoad<Record<string, unknown>[] | { items: Record<string, unknown>[] }>('/api/v1/devices');
  const rows = Array.isArray(data) ? data : data?.items ?? [];
  return (
    <>
      <ErrorLine error={error} />
      <JsonTable rows={rows} cols={[{ label: 'device_id', get: (r) => r.device_id }, { label: 'apikey', get: (r) => r.apikey }, { label: t('admin.entity'), get: (r) => r.entity_id }]} />
    </>
  );
}

function Rules() {
  const { data, error } = useLoad<Record<string, unknown>[]>('/api/v1/rules');
  return (
    <>
      <ErrorLine error={error} />
      <JsonTable
        rows={data ?? []}
        cols={[
          { label: 'id', get: (r) => r.id },
          { label: t('admin.name'), get: (r) => r.name },
          { label: t('admin.kind'), get: (r) => r.kind },
          { label: t('admin.target'), get: (r) => { const tg = r.target as Record<string, unknown> | undefined; return tg ? [tg.entityType, tg.attribute].filter(Boolean).join(' · ') : r.category; } },
          { label: t('admin.version'), get: (r) => r.version },
          { label: t('admin.public'), get: (r) => (r.public ? '✓' : '') },
        ]}
      />
    </>
  );
}

function Sop() {
  const { data, error } = useLoad<{ items: Record<string, unknown>[] }>('/api/v1/sop-templates');
  return (
    <>
      <ErrorLine error={error} />
      <JsonTable
        rows={data?.items ?? []}
        cols={[
          { label: 'id', get: (r) => r.id },
          { label: t('admin.name'), get: (r) => r.title },
          { label: t('ops.category'), get: (r) => (Array.isArray(r.categories) ? r.categories.join(', ') : r.category) },
          { label: t('admin.version'), get: (r) => r.version },
          { label: t('admin.steps'), get: (r) => (Array.isArray(r.steps) ? r.steps.length : '') },
        ]}
      />
    </>
  );
}

function Routing() {
  const [unit, setUnit] = useState(me.value?.unit_code ?? '46');
  const { data, error } = useLoad<Record<string, unknown>>(unit ? `/api/v1/routing-tables/${encodeURIComponent(unit)}` : null);
  return (
    <>
      <label>
        {t('admin.unitCode')}
        <input value={unit} inputMode="numeric" onChange={(e) => setUnit((e.currentTarget as HTMLInputElement).value.trim())} />
      </label>
      <ErrorLine error={error} />
      {data && <pre class="json">{JSON.stringify(data, null, 2)}</pre>}
    </>
  );
}

const PANES: Record<Tab, () => JSX.Element> = { users: Users, keys: Keys, devices: Devices, rules: Rules, sop: Sop, routing: Routing };

export function Admin() {
  const tabs = TABS.filter((x) => can(x.permission));
  const [tab, setTab] = useState<Tab | undefined>(tabs[0]?.id);
  if (!tab) return <p class="notice">{t('admin.noPermission')}</p>;
  const Pane = PANES[tab];
  return (
    <div class="admin">
      <h1 class="screen-title">{t('admin.title')}</h1>
      <div role="tablist" class="tabs" aria-label={t('admin.title')}>
        {tabs.map((x) => (
          <button type="button" role="tab" key={x.id} id={`tab-${x.id}`} aria-selected={tab === x.id} aria-controls="admin-pane" onClick={() => setTab(x.id)}>
            {t(x.label)}
          </button>
        ))}
      </div>
      <section id="admin-pane" role="tabpanel" aria-labelledby={`tab-${tab}`} class="widget">
        <Pane />
      </section>
    </div>
  );
}
