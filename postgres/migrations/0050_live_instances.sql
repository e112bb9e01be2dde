-- The live instances of the store, each under the name it joined with (--instance),
-- and the replies they send each other (live.go). An instance renews its lease every
-- second; one whose lease has lapsed (killed, hung, cut off) is taken for gone, and its
-- name may be taken again. Requests travel in NOTIFYs; replies, which may be larger
-- than a NOTIFY's payload, are rows here, read and deleted by the asker (and deleted
-- after a minute if nobody did).
CREATE TABLE live_instances (
	name        text        PRIMARY KEY,
	token       text        NOT NULL, -- the process that holds the name
	started     timestamptz NOT NULL,
	lease_until timestamptz NOT NULL
);

CREATE TABLE live_replies (
	request  text        NOT NULL,
	instance text        NOT NULL,
	body     text        NOT NULL,
	at       timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (request, instance)
);
