-- The store: products, customers, their orders, and the idempotency keys that
-- make order creation safe to retry.
--
-- Runs inside one transaction (see src/db/migrate.ts): no BEGIN/COMMIT here.
-- Never edit this file once applied anywhere; add 002_... instead.

CREATE TABLE products (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sku         text NOT NULL UNIQUE,
  name        text NOT NULL,
  category    text NOT NULL,
  price_cents integer NOT NULL CHECK (price_cents >= 0),
  stock       integer NOT NULL CHECK (stock >= 0),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email      text NOT NULL UNIQUE,
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers,
  total_cents bigint NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE order_items (
  order_id         bigint REFERENCES orders ON DELETE CASCADE,
  product_id       bigint REFERENCES products,
  quantity         integer NOT NULL CHECK (quantity > 0),
  unit_price_cents integer NOT NULL,
  PRIMARY KEY (order_id, product_id)
);

CREATE TABLE idempotency_keys (
  key          text PRIMARY KEY,
  request_hash text NOT NULL,
  order_id     bigint REFERENCES orders,
  response     jsonb,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- Keyset pagination walks (created_at, id); the category listing filters first.
CREATE INDEX products_created_at_id_idx ON products (created_at, id);
CREATE INDEX products_category_created_at_id_idx ON products (category, created_at, id);
CREATE INDEX orders_customer_id_created_at_id_idx ON orders (customer_id, created_at, id);
-- Lets deleting or locking a product find its order lines without a scan;
-- the primary key cannot, as it leads with order_id.
CREATE INDEX order_items_product_id_idx ON order_items (product_id);
