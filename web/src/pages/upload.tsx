import { useState } from 'preact/hooks';
import { ApiProblem, api } from '../api';
import { parseGpx } from '../gpx';
import { Bar } from '../ui';

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');

/**
 * Upload a GPX file (POST /v1/activities). The idempotency key is the SHA-256 of the file, so sending the
 * same file again (a retry after a lost answer, a second click) makes no second activity.
 */
export function Upload() {
  const [state, setState] = useState<{ msg: string; id?: string; error?: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem('file') as HTMLInputElement;
    const sportField = (e.currentTarget as HTMLFormElement).elements.namedItem('sport') as HTMLSelectElement;
    const file = input.files?.[0];
    if (!file) return;
    setBusy(true);
    try {
      const text = await file.text();
      const gpx = parseGpx(text);
      const key = `gpx-${hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))}`;
      const body = {
        type: sportField.value === 'auto' ? gpx.sport : sportField.value,
        start_time: gpx.start_time,
        ...(gpx.name ? { name: gpx.name } : {}),
        data_points: gpx.data_points,
      };
      setState({ msg: `Uploading ${gpx.data_points.length} points…` });
      const r = await api<{ activity_id: string }>('/v1/activities', {
        method: 'POST',
        body,
        headers: { 'idempotency-key': key },
      });
      setState({ msg: 'Uploaded; processing…', id: r.activity_id });
      for (let i = 0; i < 120; i++) {
        const a = await api<{ status: string }>(`/v1/activities/${r.activity_id}`);
        if (a.status === 'ready') {
          setState({ msg: 'Ready.', id: r.activity_id });
          return;
        }
        await new Promise((ok) => setTimeout(ok, 1000));
      }
      setState({ msg: 'Still processing; it will appear in the list.', id: r.activity_id });
    } catch (err) {
      setState({
        msg: err instanceof ApiProblem ? `${err.message} (${err.code})` : (err as Error).message,
        error: true,
      });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="upload-title">
      <h1 id="upload-title">Upload an activity</h1>
      <form class="card form" onSubmit={submit}>
        <label>
          GPX file
          <input type="file" name="file" accept=".gpx,application/gpx+xml" required />
        </label>
        <label>
          Sport
          <select name="sport">
            <option value="auto">from the file</option>
            <option value="running">running</option>
            <option value="cycling">cycling</option>
            <option value="walking">walking</option>
            <option value="hiking">hiking</option>
          </select>
        </label>
        <button type="submit" disabled={busy}>
          Upload
        </button>
        {state && (
          <p role={state.error ? 'alert' : 'status'} class={state.error ? 'error' : ''} data-upload-status>
            {state.msg}{' '}
            {state.id && !state.error && <a href={`#/activities/${state.id}`}>Open the activity</a>}
          </p>
        )}
      </form>
      <Import />
    </section>
  );
}

interface ImportView {
  import_id: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  reason: string | null;
  files_total: number | null;
  files_done: number;
  files_failed: number;
  activities_created: number;
  duplicates_skipped: number;
  files: { name: string; status: string; reason: string | null; activity_ids: string[] }[];
}

/**
 * A GPX, TCX or FIT file, or a zip of many (POST /v1/imports: the file's bytes as the body), followed to
 * the end with its progress (GET /v1/imports/{id}: files done of total, activities made, duplicates).
 */
function Import() {
  const [view, setView] = useState<ImportView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const file = (form.elements.namedItem('import') as HTMLInputElement).files?.[0];
    const sport = (form.elements.namedItem('default_sport') as HTMLSelectElement).value;
    if (!file) return;
    setBusy(true);
    setError(null);
    setView(null);
    try {
      const r = await api<{ import_id: string }>(`/v1/imports?default_sport=${sport}`, {
        method: 'POST',
        bytes: file,
        headers: { 'content-type': 'application/octet-stream' },
      });
      for (let i = 0; i < 600; i++) {
        const v = await api<ImportView>(`/v1/imports/${r.import_id}`);
        setView(v);
        if (v.status === 'done' || v.status === 'failed') return;
        await new Promise((ok) => setTimeout(ok, 1000));
      }
    } catch (err) {
      setError(err instanceof ApiProblem ? `${err.message} (${err.code})` : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const total = view?.files_total ?? 0;
  return (
    <form class="card form" onSubmit={submit} aria-labelledby="import-title">
      <h2 id="import-title">Import files</h2>
      <label>
        GPX, TCX or FIT file, or a zip of many
        <input type="file" name="import" accept=".gpx,.tcx,.fit,.zip,.gz" required />
      </label>
      <label>
        Sport of a file that names none
        <select name="default_sport">
          <option value="running">running</option>
          <option value="cycling">cycling</option>
          <option value="walking">walking</option>
          <option value="hiking">hiking</option>
        </select>
      </label>
      <button type="submit" disabled={busy}>
        Import
      </button>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {view && (
        <div role="status" data-import-status={view.status}>
          <Bar value={view.files_done} max={Math.max(total, 1)} label="Import progress" />
          <p>
            {view.status}: {view.files_done} of {view.files_total ?? '?'} files, {view.activities_created}{' '}
            activities created, {view.duplicates_skipped} duplicates skipped, {view.files_failed} failed
            {view.reason ? ` (${view.reason})` : ''}
          </p>
          <ul>
            {view.files.map((f) => (
              <li key={f.name}>
                {f.name}: {f.status}
                {f.reason ? ` (${f.reason})` : ''}
                {f.activity_ids.map((id) => (
                  <a key={id} href={`#/activities/${id}`}>
                    {' '}
                    activity
                  </a>
                ))}
              </li>
            ))}
          </ul>
        </div>
      )}
    </form>
  );
}
