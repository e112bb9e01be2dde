-- The store's own small facts, by name: its SSH host key, for one. A value is set
-- once and kept (InitSetting), so that every instance sharing the store presents
-- the same one.
CREATE TABLE settings (
	key   text  NOT NULL PRIMARY KEY,
	value bytea NOT NULL CHECK (length(value) > 0)
);

-- SSH public keys bound to accounts: a bound key logs its account in. A key is
-- bound to one account at most; fingerprint is its SHA256 fingerprint, as
-- ssh-keygen -l shows it, and public_key the key as authorized_keys has it.
CREATE TABLE account_keys (
	fingerprint text        PRIMARY KEY,
	account_id  bigint      NOT NULL REFERENCES accounts (id),
	public_key  text        NOT NULL,
	added_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- An account's keys are listed oldest first.
CREATE INDEX account_keys_account ON account_keys (account_id, added_at);
