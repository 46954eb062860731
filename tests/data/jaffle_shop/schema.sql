-- The tables of etc/dbdiagram_definition.txt (dbt-labs/jaffle_shop), in SQLite's words. The
-- diagram gives payments.payment_method as int; its values are words (credit_card, coupon, ...),
-- so it is TEXT here. payments.amount is in cents, as in the seed files.
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  first_name VARCHAR,
  last_name VARCHAR
);

CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  user_id INTEGER REFERENCES customers (id),
  order_date DATE,
  status VARCHAR
);

CREATE TABLE payments (
  id INTEGER,
  order_id INTEGER REFERENCES orders (id),
  payment_method TEXT,
  amount INTEGER
);
