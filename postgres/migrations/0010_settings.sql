-- The store's own small facts, by name: its SSH host key, for one. A value is set
-- once and kept (InitSetting), so that every instance sharing the store presents
-- the same one.
CREATE TABLE settings (
	key   text  NOT NULL PRIMARY KEY,
	value bytea NOT NULL CHECK (length(value) > 0)
);
