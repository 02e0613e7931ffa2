import { useState } from 'preact/hooks';
import { api } from '../api';
import { useProfile } from '../profile';
import { Status, useApi } from '../ui';

interface GroupSummary {
  id: string;
  name: string;
  kind: string;
  my_role: 'owner' | 'admin' | 'member';
  member_count: number;
}
interface Member {
  user_id: string;
  name: string;
  role: string;
  share_live_with_staff?: boolean;
}
interface Group extends GroupSummary {
  join_code: string | null;
  members: Member[];
}

/**
 * The athlete's groups (GET /v1/groups), joining one by its code, and per group the one setting that is the
 * member's own: sharing their live sessions with the group's owners and admins (their live board). Off
 * unless the member turns it on (PATCH /v1/groups/{id}/membership).
 */
export function Groups() {
  const { data, error, reload } = useApi<{ items: GroupSummary[] }>('/v1/groups');
  const [code, setCode] = useState('');
  const [joinError, setJoinError] = useState<string | null>(null);
  const join = async (e: Event) => {
    e.preventDefault();
    setJoinError(null);
    try {
      await api('/v1/group-joins', { method: 'POST', body: { join_code: code.trim() } });
      setCode('');
      reload();
    } catch (err) {
      setJoinError((err as Error).message);
    }
  };
  return (
    <section aria-labelledby="groups-title">
      <h1 id="groups-title">Groups</h1>
      <form class="filters" onSubmit={join} aria-label="Join a group">
        <label>
          Join code
          <input value={code} required maxLength={64} onInput={(e) => setCode(e.currentTarget.value)} />
        </label>
        <button type="submit">Join</button>
      </form>
      {joinError && (
        <p role="alert" class="error">
          {joinError}
        </p>
      )}
      <Status error={error} loading={!data} />
      {data && data.items.length === 0 && <p>You are in no group yet.</p>}
      <ul class="goals">
        {data?.items.map((g) => (
          <GroupCard key={g.id} id={g.id} />
        ))}
      </ul>
    </section>
  );
}

function GroupCard({ id }: { id: string }) {
  const me = useProfile();
  const { data, error, reload } = useApi<Group>(`/v1/groups/${id}`);
  const [saving, setSaving] = useState(false);
  /** what the member just asked for, shown at once while it is saved */
  const [asked, setAsked] = useState<boolean | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  if (!data) return <Status error={error} loading />;
  const mine = data.members.find((m) => m.user_id === me?.id);
  const sharing = asked ?? mine?.share_live_with_staff === true;
  const staff = data.members.filter((m) => m.role !== 'member' && m.user_id !== me?.id);
  const toggle = async (on: boolean) => {
    setSaving(true);
    setSaveError(null);
    setAsked(on);
    try {
      await api(`/v1/groups/${id}/membership`, { method: 'PATCH', body: { share_live_with_staff: on } });
      reload();
    } catch (err) {
      setAsked(null);
      setSaveError((err as Error).message);
    } finally {
      setSaving(false);
    }
  };
  return (
    <li class="card" data-group={id}>
      <h2>{data.name}</h2>
      <p class="hint">
        {data.kind} · {data.member_count} members · you are {data.my_role}
        {data.join_code && <> · join code {data.join_code}</>}
      </p>
      <label class="check">
        <input
          type="checkbox"
          checked={sharing}
          disabled={saving || !me}
          onChange={(e) => void toggle(e.currentTarget.checked)}
        />
        Share my live sessions with this group's owners and admins
      </label>
      <p class="hint">
        {staff.length === 0
          ? 'Nobody else runs this group.'
          : `They see your position, pace, heart rate and distance while you are in a session (${staff
              .map((m) => m.name)
              .join(', ')}); never your activities.`}
      </p>
      {saveError && (
        <p role="alert" class="error">
          {saveError}
        </p>
      )}
    </li>
  );
}
