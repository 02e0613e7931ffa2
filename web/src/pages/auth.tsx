import { useState } from 'preact/hooks';
import { register, signIn } from '../api';

function useSubmit(action: () => Promise<void>) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    action()
      .then(() => {
        if (/^#\/?(signin|register)?$/.test(location.hash)) location.hash = '#/activities';
      })
      .catch((err: Error) => setError(err.message))
      .finally(() => setBusy(false));
  };
  return { error, busy, submit };
}

export function SignIn() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { error, busy, submit } = useSubmit(() => signIn(email, password));
  return (
    <form onSubmit={submit} class="card form" aria-labelledby="signin-title">
      <h2 id="signin-title">Sign in</h2>
      <label>
        E-mail
        <input
          type="email"
          name="email"
          autoComplete="username"
          required
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
        />
      </label>
      <label>
        Password
        <input
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </label>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        Sign in
      </button>
      <p>
        No account? <a href="#/register">Register</a>
      </p>
    </form>
  );
}

export function Register() {
  const [f, setF] = useState({ email: '', password: '', name: '' });
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const { error, busy, submit } = useSubmit(() => register({ ...f, timezone }));
  const field = (k: keyof typeof f) => ({
    value: f[k],
    onInput: (e: Event) => setF({ ...f, [k]: (e.currentTarget as HTMLInputElement).value }),
  });
  return (
    <form onSubmit={submit} class="card form" aria-labelledby="register-title">
      <h2 id="register-title">Register</h2>
      <label>
        Name
        <input name="name" autoComplete="name" required {...field('name')} />
      </label>
      <label>
        E-mail
        <input type="email" name="email" autoComplete="username" required {...field('email')} />
      </label>
      <label>
        Password (at least 10 characters)
        <input
          type="password"
          name="password"
          autoComplete="new-password"
          minLength={10}
          required
          {...field('password')}
        />
      </label>
      <p class="hint">Time zone: {timezone}</p>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        Create account
      </button>
      <p>
        Have an account? <a href="#/signin">Sign in</a>
      </p>
    </form>
  );
}
