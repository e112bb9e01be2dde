-- Orders shipped and cancelled, as the instances sharing the store announce them
-- (NOTIFY on the store's orders channel): an instance whose listener was
-- disconnected reads the events of the outage from here when it is back, so that
-- its customers are still told. Rows are kept a day.
CREATE TABLE order_events (
	id       bigserial   PRIMARY KEY,
	order_id bigint      NOT NULL,
	status   text        NOT NULL,
	instance text        NOT NULL,
	at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_events_at ON order_events (at);
