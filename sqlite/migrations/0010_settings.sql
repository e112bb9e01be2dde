-- The store's own small facts, by name: its SSH host key, for one. A value is set
-- once and kept (InitSetting), so that every program opening the store agrees on it.
CREATE TABLE settings (
	key   TEXT NOT NULL PRIMARY KEY,
	value BLOB NOT NULL CHECK (length(value) > 0)
) WITHOUT ROWID;
