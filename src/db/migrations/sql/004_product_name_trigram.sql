-- Product search (`q`, a case-insensitive substring of the name) scanned
-- every product with ILIKE '%…%': a btree cannot serve a leading wildcard,
-- so each anonymous search cost a full scan. A GIN trigram index (pg_trgm)
-- can. pg_trgm ships with PostgreSQL's contrib (and the embedded server) and
-- is a trusted extension, so a database owner may create it; where it is
-- not available or not allowed, this migration leaves search as it was and
-- start-up logs a notice (src/store/search-index.ts). Installing pg_trgm
-- later and creating the index by hand (statement below) is picked up at
-- the next start.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
      RAISE NOTICE 'pg_trgm is not available: product search stays a sequential scan';
      RETURN;
    END IF;
    BEGIN
      CREATE EXTENSION pg_trgm;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'not allowed to create pg_trgm: product search stays a sequential scan';
      RETURN;
    END;
  END IF;
  EXECUTE 'CREATE INDEX IF NOT EXISTS products_name_trgm_idx ON products USING gin (name gin_trgm_ops)';
END
$$;
