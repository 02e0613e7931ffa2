import { useState } from 'preact/hooks';
import { ApiProblem, api } from '../api';
import { parseGpx } from '../gpx';

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
      <p class="hint">
        File imports of TCX and FIT with their progress come with the imports API (issue 13).
      </p>
    </section>
  );
}
