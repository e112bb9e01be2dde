-- The store's own small facts, by name: its SSH host key, for one. A value is set
-- once and kept (InitSetting), so that every program opening the store agrees on it.
CREATE TABLE settings (
	key   TEXT NOT NULL PRIMARY KEY,
	value BLOB NOT NULL CHECK (length(value) > 0)
) WITHOUT ROWID;

-- SSH public keys bound to accounts: a bound key logs its account in. A key is
-- bound to one account at most; fingerprint is its SHA256 fingerprint, as
-- ssh-keygen -l shows it, and public_key the key as authorized_keys has it.
CREATE TABLE account_keys (
	fingerprint TEXT    NOT NULL PRIMARY KEY,
	account_id  INTEGER NOT NULL REFERENCES accounts (id),
	public_key  TEXT    NOT NULL,
	added_at    INTEGER NOT NULL -- unix nanoseconds, UTC
) WITHOUT ROWID;

-- An account's keys are listed oldest first.
CREATE INDEX account_keys_account ON account_keys (account_id, added_at);
