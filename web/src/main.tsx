import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, onSessionChange, signOut } from './api';
import { ActivityDetail, ActivityList } from './pages/activities';
import { Register, SignIn } from './pages/auth';
import { Board } from './pages/board';
import { Challenges } from './pages/challenges';
import { Goals } from './pages/goals';
import { Groups } from './pages/groups';
import { Leaderboards } from './pages/leaderboards';
import { Progress } from './pages/progress';
import { Stats } from './pages/stats';
import { Streaks } from './pages/streaks';
import { Upload } from './pages/upload';
import { ProfileProvider } from './profile';
import './styles.css';

/** The route is the hash (#/activities/…): the API serves one index.html, and no route reaches the server. */
function useRoute(): string[] {
  const parse = () => location.hash.replace(/^#\/?/, '').split('?')[0]!.split('/').filter(Boolean);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const f = () => setRoute(parse());
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  return route;
}

function useSignedIn(): boolean {
  const [signedIn, set] = useState(currentSession() !== null);
  useEffect(() => onSessionChange(() => set(currentSession() !== null)), []);
  return signedIn;
}

const NAV: [string, string][] = [
  ['board', 'Live board'],
  ['activities', 'Activities'],
  ['upload', 'Upload'],
  ['goals', 'Goals'],
  ['streaks', 'Streaks'],
  ['challenges', 'Challenges'],
  ['stats', 'Stats'],
  ['progress', 'Progress'],
  ['leaderboards', 'Leaderboards'],
  ['groups', 'Groups'],
];

function Page({ route }: { route: string[] }) {
  const [page, arg] = route;
  switch (page) {
    case 'board':
      return <Board />;
    case 'activities':
      return arg ? <ActivityDetail id={arg} /> : <ActivityList />;
    case 'upload':
      return <Upload />;
    case 'goals':
      return <Goals />;
    case 'streaks':
      return <Streaks />;
    case 'challenges':
      return <Challenges />;
    case 'stats':
      return <Stats />;
    case 'progress':
      return <Progress />;
    case 'leaderboards':
      return <Leaderboards />;
    case 'groups':
      return <Groups />;
    default:
      return <ActivityList />;
  }
}

function App() {
  const route = useRoute();
  const signedIn = useSignedIn();
  if (!signedIn)
    return (
      <main id="main" class="narrow">
        <h1 class="brand">Fitstream</h1>
        {route[0] === 'register' ? <Register /> : <SignIn />}
      </main>
    );
  const page = route[0] ?? 'activities';
  return (
    <ProfileProvider>
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">Fitstream</span>
        <nav aria-label="Main">
          {NAV.map(([href, label]) => (
            <a key={href} href={`#/${href}`} aria-current={page === href ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <button
          type="button"
          class="link"
          onClick={() => void signOut().then(() => (location.hash = '#/signin'))}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </ProfileProvider>
  );
}

render(<App />, document.getElementById('app')!);
