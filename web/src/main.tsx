import { render, type FunctionComponent } from 'preact';
import { useEffect } from 'preact/hooks';
import './styles.css';
import { session } from './lib/session';
import { current, kiosk, type Route } from './lib/router';
import { startLive, stopLive } from './lib/live';
import { Layout } from './components/Layout';
import { Lazy } from './components/Lazy';
import { Login } from './screens/Login';

const screens: Record<Exclude<Route, 'login'>, () => Promise<FunctionComponent>> = {
  overview: () => import('./screens/Overview').then((m) => m.Overview),
  map: () => import('./screens/MapScreen').then((m) => m.MapScreen),
  ops: () => import('./screens/Ops').then((m) => m.Ops),
  indicators: () => import('./screens/Indicators').then((m) => m.Indicators),
  admin: () => import('./screens/Admin').then((m) => m.Admin),
  portal: () => import('./screens/Portal').then((m) => m.Portal),
};
const loadKiosk = () => import('./screens/Kiosk').then((m) => m.Kiosk);

function App() {
  const signedIn = !!session.value;
  const route = current.value.route;
  useEffect(() => {
    if (signedIn) startLive();
    else stopLive();
  }, [signedIn]);
  // The citizen portal is public: no sign-in, no staff frame.
  if (route === 'portal' && !kiosk) return <Lazy load={screens.portal} />;
  if (!signedIn) return <Login />;
  if (kiosk) return <Lazy load={loadKiosk} />;
  const screen = route === 'login' ? 'overview' : route;
  return (
    <Layout>
      <Lazy key={screen} load={screens[screen]} />
    </Layout>
  );
}

render(<App />, document.getElementById('app')!);
