-- Accounts and sign-in (issue 12): the athlete profile the API edits and the worker reads, refresh
-- tokens (rotated, stored hashed, grouped in families so a reused token revokes its whole family),
-- and the operator-granted roles.

-- Up Migration

-- The profile. birth_date replaces birth_year (the year is what the formulas use, the date is what an
-- athlete enters); an existing year becomes 1 July of that year, the date with the smallest worst-case
-- error of age in years.
ALTER TABLE users
  ADD COLUMN birth_date  date CHECK (birth_date BETWEEN '1900-01-01' AND '2100-01-01'),
  ADD COLUMN sex         text CHECK (sex IN ('female', 'male')),
  ADD COLUMN timezone    text NOT NULL DEFAULT 'UTC',   -- IANA name, validated by the API
  ADD COLUMN units       text NOT NULL DEFAULT 'metric' CHECK (units IN ('metric', 'imperial')),
  ADD COLUMN week_start  text NOT NULL DEFAULT 'monday' CHECK (week_start IN ('monday', 'sunday', 'saturday'));
UPDATE users SET birth_date = make_date(birth_year, 7, 1) WHERE birth_year IS NOT NULL;
ALTER TABLE users DROP COLUMN birth_year;
-- password_hash stays nullable: accounts created before sign-in existed have none and cannot sign in.
COMMENT ON COLUMN users.password_hash IS 'scrypt$<log2 N>$<r>$<p>$<salt b64url>$<key b64url>, see services/api/passwords.ts';

CREATE TABLE refresh_tokens (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  family_id    uuid NOT NULL,                   -- every rotation of one sign-in shares it
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash   text NOT NULL UNIQUE,            -- SHA-256 of the opaque token, never the token
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz,                     -- rotated: presenting it again revokes the family
  revoked_at   timestamptz                      -- logout, reuse, password change
);
CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);

-- Granted by an operator (scripts/grant-role.ts), never through the API.
CREATE TABLE user_roles (
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role        text NOT NULL CHECK (role IN ('support', 'admin')),
  granted_by  text NOT NULL,                    -- the operator, as given to the script
  granted_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, role)
);

-- Down Migration

DROP TABLE IF EXISTS user_roles;
DROP TABLE IF EXISTS refresh_tokens;
ALTER TABLE users ADD COLUMN birth_year smallint CHECK (birth_year BETWEEN 1900 AND 2100);
UPDATE users SET birth_year = extract(year FROM birth_date)::smallint WHERE birth_date IS NOT NULL;
ALTER TABLE users DROP COLUMN week_start, DROP COLUMN units, DROP COLUMN timezone, DROP COLUMN sex, DROP COLUMN birth_date;
