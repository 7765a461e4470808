-- Idempotency keys belong to the caller who sent them (an API key's name, or
-- the client address when API_KEYS is unset): the same key from another
-- caller is another key, so no caller can replay, pre-claim or probe
-- someone else's. Rows keep the order id, not the response: a replay re-reads
-- the order. Rows older than IDEMPOTENCY_TTL_S are purged in small batches by
-- src/store/idempotency-purge.ts, which walks created_at.
--
-- Rows from before this migration get caller '', which no request has: they
-- can no longer be replayed and expire like any other.

ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD COLUMN caller text NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ALTER COLUMN caller DROP DEFAULT;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (caller, key);
ALTER TABLE idempotency_keys DROP COLUMN response;
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
