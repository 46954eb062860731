"""The bundled demo database: a small shop whose orders always cover the last 24 months.

``ensure_demo_database()`` returns the path of a SQLite file with four tables::

    customers    (id, name, email, region, segment, signup_date)
    products     (id, name, category, price)
    orders       (id, customer_id -> customers, order_date, status)
    order_items  (id, order_id -> orders, product_id -> products, quantity, unit_price)

About 50,000 orders spread over the 24 months before today (with growth, a weekly rhythm and a
December peak), so "last month", "this year" and "the last 30 days" always have data. The file is
built on first use (into a temp file, then renamed, so a reader never sees half a database) and
rebuilt when the month changes. Its contents depend only on the build date, which is kept in
``PRAGMA user_version`` as ``YYYYMMDD`` (read it back with :func:`demo_build_date`).
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
import random
import sqlite3
import tempfile
import threading
from pathlib import Path

from trellis_jupyter._version import __version__

__all__ = [
    "DEMO_ORDERS",
    "build_demo_database",
    "default_demo_path",
    "demo_build_date",
    "ensure_demo_database",
]

DEMO_ORDERS = 50_000
_CUSTOMERS = 2_000
_MONTHS = 24
_SEED = 4112

_REGIONS = ["North", "South", "East", "West"]
_REGION_WEIGHTS = [0.22, 0.21, 0.33, 0.24]
_SEGMENTS = ["Consumer", "Corporate", "Small Business"]
_SEGMENT_WEIGHTS = [0.55, 0.27, 0.18]
_STATUSES = ["completed", "shipped", "pending", "cancelled", "returned"]
_STATUS_WEIGHTS = [0.70, 0.12, 0.05, 0.08, 0.05]

# (category, [(product name, price)]): prices are list prices; order lines may carry a discount.
_CATALOG: list[tuple[str, list[tuple[str, float]]]] = [
    (
        "Electronics",
        [
            ("Laptop Pro 14", 1299.0),
            ("Laptop Air 13", 999.0),
            ("Wireless Mouse", 29.99),
            ("Mechanical Keyboard", 89.0),
            ("27-inch Monitor", 279.0),
            ("USB-C Hub", 45.5),
            ("Noise-Cancelling Headphones", 249.0),
            ("Webcam HD", 69.0),
            ("Tablet 10", 399.0),
            ("Smartphone X", 799.0),
            ("Portable SSD 1TB", 119.0),
            ("Bluetooth Speaker", 59.0),
        ],
    ),
    (
        "Furniture",
        [
            ("Ergonomic Chair", 349.0),
            ("Standing Desk", 549.0),
            ("Bookcase", 159.0),
            ("Filing Cabinet", 189.0),
            ("Conference Table", 899.0),
            ("Desk Lamp", 39.0),
            ("Office Sofa", 749.0),
            ("Monitor Arm", 99.0),
        ],
    ),
    (
        "Office Supplies",
        [
            ("Copy Paper Box", 42.0),
            ("Ballpoint Pens (12)", 8.5),
            ("Stapler", 14.0),
            ("Sticky Notes", 6.25),
            ("Binder Set", 18.0),
            ("Whiteboard Markers", 11.0),
            ("Printer Toner", 79.0),
            ("Desk Organizer", 24.0),
            ("Envelopes (100)", 12.0),
            ("Notebook A5", 5.5),
        ],
    ),
    (
        "Clothing",
        [
            ("Company Hoodie", 49.0),
            ("Polo Shirt", 29.0),
            ("Rain Jacket", 119.0),
            ("Baseball Cap", 19.0),
            ("Running Shoes", 99.0),
            ("Wool Socks", 12.0),
            ("Fleece Vest", 69.0),
        ],
    ),
    (
        "Kitchen",
        [
            ("Coffee Maker", 129.0),
            ("Electric Kettle", 45.0),
            ("Water Bottle", 22.0),
            ("Espresso Cups (4)", 28.0),
            ("Lunch Box", 18.5),
            ("Blender", 89.0),
        ],
    ),
    (
        "Books",
        [
            ("SQL for Analysts", 39.0),
            ("Data Visualization Guide", 45.0),
            ("Python Basics", 35.0),
            ("Management Handbook", 29.0),
            ("Statistics Primer", 42.0),
        ],
    ),
]

_FIRST_NAMES = (  # noqa: SIM905 - a word list reads better as one string
    "Ava Ben Chloe Daniel Ella Felix Grace Henry Isla Jack Kara Liam Maya Noah Olivia Paul Quinn "
    "Rosa Sam Tara Umar Vera Will Xena Yusuf Zoe Aaron Bella Carlos Diana Ethan Fatima George "
    "Hana Ivan Julia Kenji Lena Marco Nina Omar Priya Ravi Sofia Tom Uma Victor Wendy Yara Zack"
).split()
_LAST_NAMES = (  # noqa: SIM905
    "Adams Baker Clark Diaz Evans Fischer Garcia Hughes Ito Jensen Khan Lopez Miller Nguyen "
    "Okafor Patel Quinn Rossi Smith Tanaka Ueda Varga Walsh Xu Young Zimmer Brooks Cohen Dubois "
    "Ekstrom Fox Gupta Hill Ivanova Jones Kim Larsen Morales Novak Ortiz Park Reyes Silva Torres "
    "Ulrich Vega Wright Yilmaz Zhou Moreau"
).split()

_build_lock = threading.Lock()


def default_demo_path() -> Path:
    """Where the demo database lives: ``$XDG_CACHE_HOME/trellis-jupyter/demo-<version>.sqlite3``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "trellis-jupyter" / f"demo-{__version__}.sqlite3"


def demo_build_date(path: str | os.PathLike[str]) -> dt.date | None:
    """The day the demo file at ``path`` was built for, or None if it is not a demo file."""
    try:
        con = sqlite3.connect(f"file:{Path(path).as_posix()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        stamp = int(con.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error:
        return None
    finally:
        con.close()
    try:
        return dt.date(stamp // 10000, stamp // 100 % 100, stamp % 100)
    except ValueError:
        return None


def ensure_demo_database(
    path: str | None = None, *, today: dt.date | None = None, orders: int = DEMO_ORDERS
) -> str:
    """The path of an up-to-date demo database, building it first if missing or stale.

    ``path`` defaults to :func:`default_demo_path`. A file built in another month than ``today``
    (default: the local date) is rebuilt so its 24-month window ends today. ``orders`` sizes a
    new build (tests use a small one).
    """
    target = Path(path) if path is not None else default_demo_path()
    if path is None:
        from .store import private_folder

        private_folder(str(target.parent))  # the chat store (API key) lives beside it: 0700
    today = today or dt.date.today()
    with _build_lock:
        built = demo_build_date(target) if target.exists() else None
        if built is not None and (built.year, built.month) == (today.year, today.month) and built <= today:
            return str(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".demo-", suffix=".sqlite3", dir=target.parent)
        os.close(fd)
        try:
            build_demo_database(tmp, today, orders=orders)
            os.replace(tmp, target)  # atomic: readers see the old file or the new one
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return str(target)


_SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    region TEXT NOT NULL,
    segment TEXT NOT NULL,
    signup_date DATE NOT NULL
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    category TEXT NOT NULL,
    price REAL NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    order_date DATE NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL,
    unit_price REAL NOT NULL
);
-- Foreign-key and date indexes, made covering so that the usual joins never touch the tables.
CREATE INDEX idx_orders_order_date ON orders(order_date, customer_id, status);
CREATE INDEX idx_orders_customer_id ON orders(customer_id);
CREATE INDEX idx_order_items_order_id ON order_items(order_id, product_id, quantity, unit_price);
CREATE INDEX idx_order_items_product_id ON order_items(product_id, order_id, quantity, unit_price);
CREATE INDEX idx_customers_region ON customers(region);
"""


def _month_start(day: dt.date, months_back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def build_demo_database(path: str, today: dt.date, *, orders: int = DEMO_ORDERS) -> None:
    """Write the demo tables into a new SQLite file at ``path`` (deterministic given ``today``)."""
    rng = random.Random(_SEED)
    start = _month_start(today, _MONTHS)
    days = (today - start).days + 1

    # Daily weights: steady growth, quieter weekends, a December peak and a summer dip.
    weights: list[float] = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        weight = 1.0 + 0.6 * offset / days
        weight *= 0.7 if day.weekday() >= 5 else 1.0
        weight *= {12: 1.45, 11: 1.2, 7: 0.85, 8: 0.9}.get(day.month, 1.0)
        weights.append(weight)
    cumulative: list[float] = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)

    names = [f"{first} {last}" for first in _FIRST_NAMES for last in _LAST_NAMES]
    names = rng.sample(names, _CUSTOMERS)
    first_signup = start - dt.timedelta(days=365)
    span = (today - first_signup).days
    # Signups sorted by date, so "customers who had signed up by day D" is a prefix of the list.
    signups = sorted(
        first_signup + dt.timedelta(days=min(span, int(span * rng.random() ** 0.8)))
        for _ in range(_CUSTOMERS)
    )
    signups[0] = first_signup  # someone can always place the first order
    customers = []
    for index, (name, signup) in enumerate(zip(names, signups, strict=True), start=1):
        email = name.lower().replace(" ", ".") + "@example.com"
        region = rng.choices(_REGIONS, _REGION_WEIGHTS)[0]
        segment = rng.choices(_SEGMENTS, _SEGMENT_WEIGHTS)[0]
        customers.append((index, name, email, region, segment, signup.isoformat()))

    products: list[tuple[int, str, str, float]] = []
    popularity: list[float] = []
    for category, catalog in _CATALOG:
        for name, price in catalog:
            products.append((len(products) + 1, name, category, price))
            # Cheap items sell more often than expensive ones.
            popularity.append(rng.uniform(0.5, 1.5) / (price**0.35))
    product_cum: list[float] = []
    acc = 0.0
    for value in popularity:
        acc += value
        product_cum.append(acc)

    order_days = sorted(rng.choices(range(days), cum_weights=cumulative, k=orders))
    signup_ordinals = [dt.date.fromisoformat(c[5]).toordinal() for c in customers]
    order_rows: list[tuple[int, int, str, str]] = []
    items: list[tuple[int, int, int, int, float]] = []
    for order_id, offset in enumerate(order_days, start=1):
        day = start + dt.timedelta(days=offset)
        eligible = bisect.bisect_right(signup_ordinals, day.toordinal())
        customer_id = rng.randrange(eligible) + 1
        status = rng.choices(_STATUSES, _STATUS_WEIGHTS)[0]
        # Recent orders are more often still on their way.
        if (today - day).days < 7 and status == "completed":
            status = rng.choice(["shipped", "pending", "completed"])
        order_rows.append((order_id, customer_id, day.isoformat(), status))
        for _ in range(rng.choices((1, 2, 3, 4), (0.45, 0.3, 0.17, 0.08))[0]):
            product = products[bisect.bisect_left(product_cum, rng.random() * acc)]
            quantity = rng.choices((1, 2, 3, 5, 10), (0.55, 0.22, 0.12, 0.07, 0.04))[0]
            discount = rng.choices((0.0, 0.1, 0.2), (0.75, 0.18, 0.07))[0]
            unit_price = round(product[3] * (1 - discount), 2)
            items.append((len(items) + 1, order_id, product[0], quantity, unit_price))

    con = sqlite3.connect(path)
    try:
        con.executescript(_SCHEMA)
        with con:
            con.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)", customers)
            con.executemany("INSERT INTO products VALUES (?, ?, ?, ?)", products)
            con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", order_rows)
            con.executemany("INSERT INTO order_items VALUES (?, ?, ?, ?, ?)", items)
        con.execute(f"PRAGMA user_version = {today.year * 10000 + today.month * 100 + today.day}")
        con.execute("ANALYZE")
    finally:
        con.close()
