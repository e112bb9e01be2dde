-- The records of the store's limits, shared by every instance: the login
-- throttle's (per name, per address, names known at an address) and the sign-up
-- limits' (per address, for the whole store). The limits (storify's shell) encode
-- the values; a record is read and written under its key's advisory lock
-- (UpdateLimits), and may be dropped once until has passed: it holds nothing that
-- counts any more.
CREATE TABLE limits (
	key   text        PRIMARY KEY,
	value bytea       NOT NULL,
	until timestamptz NOT NULL
);
CREATE INDEX limits_until ON limits (until);

-- The manager's bans, shared by every instance: an address or network (masked,
-- as 203.0.113.0/24) turned away until until, or until lifted when it is null.
CREATE TABLE bans (
	prefix text        PRIMARY KEY,
	until  timestamptz
);
