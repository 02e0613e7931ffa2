import { type ComponentChildren, createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { api } from './api';
import type { Units } from './units';

export interface Profile {
  id: string;
  name: string;
  email: string;
  timezone: string;
  max_hr: number | null;
  preferences: { units: Units; week_start: string };
}

const Ctx = createContext<Profile | null>(null);

/** The signed-in user's profile (GET /v1/users/me): units, time zone, max HR. */
export function ProfileProvider({ children }: { children: ComponentChildren }) {
  const [p, setP] = useState<Profile | null>(null);
  useEffect(() => {
    void api<Profile>('/v1/users/me').then(setP, () => {});
  }, []);
  return <Ctx.Provider value={p}>{children}</Ctx.Provider>;
}

export const useProfile = () => useContext(Ctx);
export const useUnits = (): Units => useContext(Ctx)?.preferences.units ?? 'metric';
