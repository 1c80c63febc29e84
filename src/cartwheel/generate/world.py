"""The shop's whole history as pure functions of (seed, scale, profile).

Nothing here depends on which days are written: daily counts come from closed-form
cumulative schedules, entity attributes from counter-based draws keyed by id (and
version), and each day's own draws from a generator seeded by (seed, day). So a day
generated alone equals the same day inside a full run, byte for byte.

Ids follow time: customers are numbered in registration order, products in launch order,
transactions and items in date (and time) order. "Customers that exist on day k" is then
the id range 1..registered[k], which keeps every lookup a slice or a searchsorted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pyarrow as pa

from cartwheel.generate import draws, vocab
from cartwheel.generate.profile import Profile
from cartwheel.vocabulary import AGE_GROUPS, PAYMENT_METHODS

EPOCH = date(1970, 1, 1).toordinal()
SLOTS = 3  # at most this many changes per customer / product over the history
NEVER = np.int32(2**30)

# Counter-based streams (any distinct numbers; changing one changes the data set).
(
    S_CAL, S_FIRST, S_LAST, S_DOMAIN, S_PHONE, S_LOC, S_CITY, S_STREET_NO, S_STREET,
    S_AGE, S_ACT1, S_ACT2, S_SLOT_GAP, S_SLOT_KIND, S_CAT, S_SUB, S_BRAND, S_NOUN,
    S_PRICE, S_MARGIN, S_STOCK, S_SUPPLIER, S_POP1, S_POP2, S_PRICE_CHANGE, S_P_GAP,
    S_P_KIND, S_CAL2,
) = range(1, 29)  # fmt: skip
# Per-day generator streams.
DAY_ORDERS = 1
DAY_DEFECTS = 100

ALL_CITIES = [c for s in vocab.STATES for c in s[1]]
CITY_STATE = np.array([i for i, s in enumerate(vocab.STATES) for _ in s[1]], dtype=np.int32)
STATE_OF_CITY_WEIGHT = np.array([s[2] / len(s[1]) for s in vocab.STATES for _ in s[1]])
SUB_LIST = [s for c in vocab.CATEGORIES for s in c[1]]
BRAND_LIST = [b for c in vocab.CATEGORIES for b in c[2]]
CATEGORY_NAMES = [c[0] for c in vocab.CATEGORIES]
EMAIL_STYLES = 4


def _cumulative(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer cumulative counts that end exactly at `total` (closed form, no state)."""
    cum = np.cumsum(weights, dtype=np.float64)
    out = np.round(total * cum / cum[-1]).astype(np.int64)
    out[-1] = total
    return out


def _ids_width(count: int, minimum: int) -> int:
    return max(minimum, len(str(count)))


@lru_cache(maxsize=64)
def _vocabulary(values: tuple[str, ...]) -> pa.Array:
    return pa.array(values, pa.string())


def dictionary(codes: np.ndarray, values: list[str] | tuple[str, ...]) -> pa.DictionaryArray:
    """Codes into a vocabulary as an Arrow dictionary column (text made on writing)."""
    return pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(codes, dtype=np.int32)), _vocabulary(tuple(values))
    )


def as_date32(day_ordinals: np.ndarray) -> pa.Array:
    return pa.array((np.asarray(day_ordinals) - EPOCH).astype(np.int32), pa.date32())


class WeightedIndex:
    """Draws indexes with given weights, restricted to a prefix (those that exist today).

    Inverse CDF with a guide table: the table maps equal slices of the total weight to
    the first index in them, so a draw costs a lookup and a step or two instead of a
    binary search over millions of customers (cache misses dominate that search).
    """

    def __init__(self, weights: np.ndarray) -> None:
        self.cum = np.cumsum(weights, dtype=np.float64)
        self.total = float(self.cum[-1])
        self.slots = 2 * len(self.cum)
        edges = np.arange(self.slots, dtype=np.float64) * (self.total / self.slots)
        self.guide = np.searchsorted(self.cum, edges, "right").astype(np.int64)

    def pick(self, prefix: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One index in [0, prefix) per uniform in `u`, drawn by weight (`prefix` per
        draw: the draws of several days at once)."""
        x = u * self.cum[prefix - 1]
        idx = self.guide[
            np.minimum((x * (self.slots / self.total)).astype(np.int64), self.slots - 1)
        ]
        last = prefix - 1
        idx = np.minimum(idx, last)
        todo = np.nonzero(self.cum[idx] <= x)[0]
        while len(todo):  # step right to the first index whose cumulative weight passes x
            idx[todo] += 1
            np.minimum(idx, last, out=idx)
            todo = todo[(self.cum[idx[todo]] <= x[todo]) & (idx[todo] < last[todo])]
        return idx


@dataclass
class Slots:
    """Up to SLOTS change events per entity: the day offset of each and its kind."""

    day: np.ndarray  # (n, SLOTS) int32 day offsets; NEVER when unused
    kind: np.ndarray  # (n, SLOTS) int8

    def versions(self, idx: np.ndarray, k: int | np.ndarray, kind: int) -> np.ndarray:
        """How many changes of `kind` entities idx have had by day offset k (inclusive;
        one k for all, or one per entity)."""
        k = np.asarray(k)
        by_day = self.day[idx] <= (k[:, None] if k.ndim else k)
        return (by_day & (self.kind[idx] == kind)).sum(axis=1)


class World:
    """Schedules and entity attributes of one history (seed, scale, profile)."""

    def __init__(self, profile: Profile, scale: float, seed: int) -> None:
        self.profile = profile.checked()
        self.seed = seed
        counts = profile.counts(scale)
        self.counts = counts
        self.n_customers = counts["customers"]
        self.n_products = counts["products"]
        self.n_transactions = counts["transactions"]
        self.n_items = counts["transaction_items"]
        self.widths = {
            "customer": _ids_width(self.n_customers, 4),
            "product": _ids_width(self.n_products, 4),
            "transaction": _ids_width(self.n_transactions, 5),
            "item": _ids_width(self.n_items, 5),
        }
        self.n_days = profile.days
        self.start = profile.start
        self._calendar()
        self._customers()
        self._products()

    # Calendar and schedules ----------------------------------------------------------

    def day_date(self, k: int) -> date:
        return self.start + timedelta(days=k)

    def day_offset(self, day: date) -> int:
        k = (day - self.start).days
        if not 0 <= k < self.n_days:
            raise ValueError(
                f"{day} is outside the generator's history "
                f"{self.start}..{self.profile.end} (set generator start/end in the config)"
            )
        return k

    def _calendar(self) -> None:
        p = self.profile
        ordinals = self.start.toordinal() + np.arange(self.n_days)
        weekday = (ordinals - 1) % 7  # Monday = 0, as date.weekday()
        months = (
            (np.datetime64(self.start, "D") + np.arange(self.n_days)).astype("datetime64[M]")
        ).astype(np.int64) % 12
        years = np.arange(self.n_days) / 365.25
        noise = draws.normal(
            draws.uniform(self.seed, S_CAL, ordinals), draws.uniform(self.seed, S_CAL2, ordinals)
        )
        weights = (
            np.where(weekday >= 5, p.weekend_factor, 1.0)
            * np.asarray(p.month_factors)[months]
            * (1 + p.yearly_growth) ** years
            * np.exp(p.daily_noise * noise)
        )
        self.day_ordinals = ordinals
        self.txn_cum = _cumulative(self.n_transactions, weights)
        extra = self.n_items - self.n_transactions
        # Items follow transactions exactly, so a day without orders has no items.
        self.item_cum = self.txn_cum + np.round(extra * self.txn_cum / self.n_transactions).astype(
            np.int64
        )
        self.item_cum[-1] = self.n_items
        # Registrations: a share before the window (spread evenly), the rest with traffic.
        pre = round(self.n_customers * p.pre_registered_share)
        pre_days = max(1, p.pre_registration_days)
        pre_cum = _cumulative(pre, np.ones(pre_days))
        new_cum = pre + _cumulative(self.n_customers - pre, weights)
        self.registered = new_cum  # customers registered by the end of day k
        reg_cum = np.concatenate([pre_cum, new_cum])
        ids = np.arange(1, self.n_customers + 1)
        self.reg_offset = (np.searchsorted(reg_cum, ids, side="left") - pre_days).astype(np.int32)
        # Catalogue: a share listed from day 0, the rest launched evenly over the window.
        initial = round(self.n_products * p.initial_catalogue_share)
        if self.n_days == 1:
            self.listed = np.array([self.n_products], dtype=np.int64)
        else:
            steps = np.arange(self.n_days) / (self.n_days - 1)
            self.listed = initial + np.round((self.n_products - initial) * steps).astype(np.int64)

    @staticmethod
    def _slots(
        seed: int, streams: tuple[int, int], ids: np.ndarray, first: np.ndarray, rate: float,
        kinds: tuple[float, ...], n_days: int,
    ) -> Slots:  # fmt: skip
        """A Poisson process of changes per entity after `first`, at most SLOTS of them."""
        day = np.empty((len(ids), SLOTS), dtype=np.int32)
        kind = np.empty((len(ids), SLOTS), dtype=np.int8)
        t = np.maximum(first, 0).astype(np.float64)
        for j in range(SLOTS):
            gap = -np.log1p(-draws.uniform(seed, streams[0], ids, j)) * 365.25 / max(rate, 1e-9)
            t = t + gap
            d = np.floor(t).astype(np.int64) + 1
            day[:, j] = np.where(d < n_days, d, NEVER)
            kind[:, j] = draws.choice(draws.uniform(seed, streams[1], ids, j), kinds)
        return Slots(day, kind)

    # Customers -----------------------------------------------------------------------

    def _customers(self) -> None:
        p, s, n = self.profile, self.seed, self.n_customers
        ids = np.arange(1, n + 1, dtype=np.int64)
        activity = np.exp(
            p.activity_sigma
            * draws.normal(draws.uniform(s, S_ACT1, ids), draws.uniform(s, S_ACT2, ids))
        )
        self.customer_pick = WeightedIndex(activity)
        self.age0 = draws.choice(draws.uniform(s, S_AGE, ids), p.age_weights).astype(np.int8)
        self.customer_slots = self._slots(
            s, (S_SLOT_GAP, S_SLOT_KIND), ids, self.reg_offset, p.customer_change_rate,
            p.customer_change_kinds, self.n_days,
        )  # fmt: skip
        # Events that change a customer row: drop moves to the same city and age changes
        # past the last age group (the row would not change).
        slots = self.customer_slots
        effective = slots.day < NEVER
        for j in range(SLOTS):
            earlier = slots.kind[:, :j]
            address_v = (earlier == 0).sum(axis=1) + 1
            age_before = (earlier == 2).sum(axis=1)
            moved = self.city(ids, address_v) != self.city(ids, address_v - 1)
            aged = self.age0 + age_before < len(AGE_GROUPS) - 1
            kind = slots.kind[:, j]
            effective[:, j] &= np.where(kind == 0, moved, np.where(kind == 2, aged, True))
        self.customer_events = self._event_index(slots.day, effective)
        self._first_address: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._may_move = np.zeros(0, dtype=bool)

    @staticmethod
    def _event_index(day: np.ndarray, effective: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(event days sorted, entity index of each), for slicing one day's changes."""
        rows, _ = np.nonzero(effective)
        days = day[effective]
        order = np.argsort(days, kind="stable")
        return days[order], rows[order].astype(np.int64)

    def changed(self, events: tuple[np.ndarray, np.ndarray], k: int) -> np.ndarray:
        """0-based indexes of entities with a change on day k (unique, sorted)."""
        days, idx = events
        lo, hi = np.searchsorted(days, [k, k + 1])
        return np.unique(idx[lo:hi])

    def city(self, ids: np.ndarray, version: np.ndarray | int) -> np.ndarray:
        u = draws.uniform(self.seed, S_CITY, ids, version)
        return draws.choice(u, STATE_OF_CITY_WEIGHT).astype(np.int32)

    def customer_rows(self, idx: np.ndarray, k: int) -> pa.Table:
        """Customers (0-based indexes) as they are at the end of day offset k."""
        s = self.seed
        ids = idx + 1
        address_v = self.customer_slots.versions(idx, k, 0)
        email_v = self.customer_slots.versions(idx, k, 1)
        age_v = self.customer_slots.versions(idx, k, 2)
        city = self.city(ids, address_v)
        domain = (draws.uniform(s, S_DOMAIN, ids, email_v) * len(vocab.EMAIL_DOMAINS)).astype(
            np.int32
        )
        phone = 2_000_000_000 + (draws.uniform(s, S_PHONE, ids) * 7_999_999_999).astype(np.int64)
        age = np.minimum(self.age0[idx] + age_v, len(AGE_GROUPS) - 1)
        return pa.table(
            {
                "id": ids,
                "first_name": dictionary(self.first_name(ids), vocab.FIRST_NAMES),
                "last_name": dictionary(
                    (draws.uniform(s, S_LAST, ids) * len(vocab.LAST_NAMES)).astype(np.int32),
                    vocab.LAST_NAMES,
                ),
                "email_style": (email_v % EMAIL_STYLES).astype(np.int8),
                "domain": dictionary(domain, vocab.EMAIL_DOMAINS),
                "phone": phone,
                "registration_date": as_date32(self.start.toordinal() + self.reg_offset[idx]),
                "city": dictionary(city, ALL_CITIES),
                "state": dictionary(CITY_STATE[city], [st[0] for st in vocab.STATES]),
                "age_group": dictionary(age, AGE_GROUPS),
            }
        )

    def first_name(self, ids: np.ndarray) -> np.ndarray:
        u = draws.uniform(self.seed, S_FIRST, ids)
        return (u * len(vocab.FIRST_NAMES)).astype(np.int32)

    def _address_parts(
        self, ids: np.ndarray, v: np.ndarray | int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(city, street number, street) of customer ids in address version v."""
        street_no = 1 + (draws.uniform(self.seed, S_STREET_NO, ids, v) * 9998).astype(np.int32)
        street = (draws.uniform(self.seed, S_STREET, ids, v) * len(vocab.STREETS)).astype(np.int8)
        return self.city(ids, v), street_no, street

    def addresses(self, idx: np.ndarray, k: int | np.ndarray) -> dict[str, pa.Array]:
        """Street, city and state of customers (0-based) on day offset k."""
        if self._first_address is None:
            # Most customers never move: their first address is worked out once.
            ids = np.arange(1, self.n_customers + 1, dtype=np.int64)
            self._first_address = self._address_parts(ids, 0)
            self._may_move = (
                (self.customer_slots.kind == 0) & (self.customer_slots.day < NEVER)
            ).any(axis=1)
        city, street_no, street = (part[idx] for part in self._first_address)
        movers = np.nonzero(self._may_move[idx])[0]
        if len(movers):
            k_movers = np.asarray(k)[movers] if np.ndim(k) else k
            v = self.customer_slots.versions(idx[movers], k_movers, 0)
            moved = movers[v > 0]
            if len(moved):
                parts = self._address_parts(idx[moved] + 1, v[v > 0])
                city[moved], street_no[moved], street[moved] = parts
        return {
            "street_no": pa.array(street_no),
            "street": dictionary(street, vocab.STREETS),
            "city": dictionary(city, ALL_CITIES),
            "state": dictionary(CITY_STATE[city], [st[0] for st in vocab.STATES]),
        }

    # Products ------------------------------------------------------------------------

    def _products(self) -> None:
        p, s, n = self.profile, self.seed, self.n_products
        ids = np.arange(1, n + 1, dtype=np.int64)
        shares = np.array([c[4] for c in vocab.CATEGORIES])
        # Categories from an equidistributed sequence (golden-ratio steps from a seeded
        # start): every catalogue has its categories' shares, however small it is.
        spread = (draws.uniform(s, S_CAT, np.zeros(1))[0] + ids * 0.6180339887498949) % 1.0
        cat = draws.choice(spread, shares).astype(np.int32)
        lo = np.array([c[3][0] for c in vocab.CATEGORIES])[cat]
        hi = np.array([c[3][1] for c in vocab.CATEGORIES])[cat]
        # Log-uniform prices inside each category's range: many cheap items, a few dear ones.
        price = np.exp(np.log(lo) + draws.uniform(s, S_PRICE, ids) * (np.log(hi) - np.log(lo)))
        price_cents = np.maximum(100, np.round(price * 100)).astype(np.int64)
        u = draws.uniform(s, S_MARGIN, ids)
        margin = np.where(
            price_cents >= 20000,
            p.premium_margin_range[0] + u * np.diff(p.premium_margin_range)[0],
            p.margin_range[0] + u * np.diff(p.margin_range)[0],
        )
        self.cost_cents = np.minimum(price_cents - 1, np.round(price_cents * (1 - margin))).astype(
            np.int64
        )
        self.base_price_cents = price_cents
        self.category = cat
        sub_counts = np.array([len(c[1]) for c in vocab.CATEGORIES])
        brand_counts = np.array([len(c[2]) for c in vocab.CATEGORIES])
        self.sub = (np.concatenate([[0], np.cumsum(sub_counts)[:-1]])[cat]) + (
            draws.uniform(s, S_SUB, ids) * sub_counts[cat]
        ).astype(np.int32)
        self.brand = (np.concatenate([[0], np.cumsum(brand_counts)[:-1]])[cat]) + (
            draws.uniform(s, S_BRAND, ids) * brand_counts[cat]
        ).astype(np.int32)
        self.noun0 = (draws.uniform(s, S_NOUN, ids) * len(vocab.PRODUCT_NOUNS)).astype(np.int32)
        self.stock = (draws.uniform(s, S_STOCK, ids) * 1000).astype(np.int32)
        self.supplier = 1 + (draws.uniform(s, S_SUPPLIER, ids) * 59).astype(np.int32)
        # Popularity: the category's share of sales spread over its products, lognormal.
        popularity = np.asarray(p.category_popularity)[cat] / shares[cat]
        # Dearer products sell less often (relative to their category's middle price).
        middle = np.sqrt(lo * hi)
        popularity = popularity * (price_cents / 100 / middle) ** -p.price_elasticity
        popularity = popularity * np.exp(
            p.popularity_sigma
            * draws.normal(draws.uniform(s, S_POP1, ids), draws.uniform(s, S_POP2, ids))
        )
        self.product_pick = WeightedIndex(popularity)
        launch = np.searchsorted(self.listed, ids, side="left").astype(np.int32)
        self.product_slots = self._slots(
            s, (S_P_GAP, S_P_KIND), ids, launch, p.product_change_rate, p.product_change_kinds,
            self.n_days,
        )  # fmt: skip
        # A price change that rounds to the same cents changes nothing: not an event.
        slots = self.product_slots
        effective = slots.day < NEVER
        idx = ids - 1
        for j in range(SLOTS):
            v = (slots.kind[:, :j] == 0).sum(axis=1) + 1
            repriced = self.price_version(idx, v) != self.price_version(idx, v - 1)
            effective[:, j] &= (slots.kind[:, j] != 0) | repriced
        self.product_events = self._event_index(slots.day, effective)

    def price_version(self, idx: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Price (cents) of products (0-based) in price version v (0 = launch price)."""
        lo, hi = self.profile.price_change_range
        factor = lo + draws.uniform(self.seed, S_PRICE_CHANGE, idx + 1, v) * (hi - lo)
        changed = np.round(self.base_price_cents[idx] * factor).astype(np.int64)
        price = np.where(v == 0, self.base_price_cents[idx], changed)
        # A price never falls to or below cost: margins stay positive.
        return np.maximum(price, self.cost_cents[idx] + 1)

    def price_cents(self, idx: np.ndarray, k: int | np.ndarray) -> np.ndarray:
        """Prices (cents) of products (0-based) on day offset k."""
        return self.price_version(idx, self.product_slots.versions(idx, k, 0))

    def product_rows(self, idx: np.ndarray, k: int) -> pa.Table:
        """Products (0-based indexes) as they are at the end of day offset k."""
        name_v = self.product_slots.versions(idx, k, 1)
        noun = (self.noun0[idx] + 3 * name_v) % len(vocab.PRODUCT_NOUNS)
        return pa.table(
            {
                "id": idx + 1,
                "noun": dictionary(noun, vocab.PRODUCT_NOUNS),
                "category": dictionary(self.category[idx], CATEGORY_NAMES),
                "sub_category": dictionary(self.sub[idx], SUB_LIST),
                "brand": dictionary(self.brand[idx], BRAND_LIST),
                "price_cents": self.price_cents(idx, k),
                "cost_cents": self.cost_cents[idx],
                "stock_quantity": self.stock[idx],
                "supplier": self.supplier[idx],
            }
        )

    # Days ----------------------------------------------------------------------------

    def transactions_on(self, k: int) -> int:
        return int(self.txn_cum[k]) - (int(self.txn_cum[k - 1]) if k else 0)

    def items_on(self, k: int) -> int:
        return int(self.item_cum[k]) - (int(self.item_cum[k - 1]) if k else 0)

    def day_entities(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """0-based customers and products in day k's batch: new ones and changed ones."""
        c_lo = 0 if k == 0 else int(self.registered[k - 1])
        p_lo = 0 if k == 0 else int(self.listed[k - 1])
        customers = np.union1d(
            np.arange(c_lo, int(self.registered[k])), self.changed(self.customer_events, k)
        )
        products = np.union1d(
            np.arange(p_lo, int(self.listed[k])), self.changed(self.product_events, k)
        )
        return customers.astype(np.int64), products.astype(np.int64)

    def _day_draws(self, k: int) -> dict[str, np.ndarray]:
        """Day k's own random draws, as uniforms and counts (from a generator seeded by
        (seed, day) only); `_draw_orders` turns the draws of several days into orders."""
        p = self.profile
        rng = draws.day_rng(self.seed, self.day_date(k), DAY_ORDERS)
        n = self.transactions_on(k)
        m = self.items_on(k)
        customer = rng.random(n)  # who buys: customers registered by today, by activity
        hour = rng.random(n)
        second = rng.integers(0, 3600, n)
        payment = rng.random(n)
        # Baskets: one item each plus the day's extra items spread with gamma weights
        # (a geometric-like tail: most baskets small, a few large).
        basket = np.ones(n, dtype=np.int64)
        if n and m > n:
            weights = rng.gamma(p.basket_shape, size=n)
            basket += rng.multinomial(m - n, weights / weights.sum())
        product = rng.random(m)
        quantity = np.minimum(rng.geometric(p.quantity_p, m), p.max_quantity)
        discount = rng.random(m)
        return {
            "customer": customer,
            "hour": hour,
            "second": second,
            "payment": payment,
            "basket": basket,
            "product": product,
            "quantity": quantity,
            "discount": discount,
        }

    def _draw_orders(self, days: list[int]) -> dict[str, np.ndarray]:
        """The orders of consecutive days from each day's own draws (`_day_draws`): what
        depends on no random state is computed for all the days at once."""
        p = self.profile
        parts = [self._day_draws(k) for k in days]
        d = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
        t_day = np.repeat(days, [len(part["customer"]) for part in parts])
        i_day = np.repeat(days, [len(part["product"]) for part in parts])
        registered = self.registered[t_day].astype(np.int64)
        listed = self.listed[i_day].astype(np.int64)
        customer = self.customer_pick.pick(registered, d["customer"])
        hour = draws.choice(d["hour"], vocab.HOUR_WEIGHTS)
        # Times sorted within each day: the day's offset keeps the days apart.
        day_start = (t_day - days[0]) * 86_400
        seconds = np.sort(day_start + hour * 3600 + d["second"]) - day_start
        payment = draws.choice(d["payment"], p.payment_weights)
        product = self.product_pick.pick(listed, d["product"])
        discount = np.asarray(p.discount_values, dtype=np.int64)[
            draws.choice(d["discount"], p.discount_weights)
        ]
        t_lo = 0 if days[0] == 0 else int(self.txn_cum[days[0] - 1])
        return {
            "customer": np.minimum(customer, registered - 1),
            "seconds": seconds,
            "payment": payment,
            "txn": np.repeat(np.arange(t_lo, t_lo + len(t_day)), d["basket"]),
            "product": np.minimum(product, listed - 1),
            "quantity": d["quantity"],
            "discount": discount,
            "t_day": t_day,
            "i_day": i_day,
        }

    def orders(self, days: list[int]) -> tuple[pa.Table, pa.Table]:
        """Transactions and items of consecutive days (raw numbers; text made on writing)."""
        d = self._draw_orders(days)
        t_day, i_day = d["t_day"], d["i_day"]
        t_lo = 0 if days[0] == 0 else int(self.txn_cum[days[0] - 1])
        i_lo = 0 if days[0] == 0 else int(self.item_cum[days[0] - 1])
        n, m = len(t_day), len(i_day)
        customer = d["customer"].astype(np.int64)
        # Prices valid on each item's day: the day's whole price list when the day sells
        # more items than there are products, else just the products sold (those of all
        # such days at once).
        product = d["product"].astype(np.int64)
        counts = np.array([self.items_on(k) for k in days], dtype=np.int64)
        whole_list = counts > self.listed[days]
        unit = np.empty(m, dtype=np.int64)
        sold_alone = ~np.repeat(whole_list, counts)
        unit[sold_alone] = self.price_cents(product[sold_alone], i_day[sold_alone])
        ends = np.cumsum(counts)
        for k, lo, hi in zip(
            np.array(days)[whole_list], (ends - counts)[whole_list], ends[whole_list], strict=True
        ):
            unit[lo:hi] = self.price_cents(np.arange(int(self.listed[k])), int(k))[product[lo:hi]]
        # Nobody buys ten laptops: dear items (Premium, >= 200) come one or two at a time.
        quantity = np.where(unit >= 20000, np.minimum(d["quantity"], 2), d["quantity"]).astype(
            np.int64
        )
        discount = d["discount"]
        # round(q * price * (1 - d/100), 2), half away from zero, in integer cents.
        line = (quantity * unit * (100 - discount) + 50) // 100
        local_txn = d["txn"] - t_lo
        total = np.bincount(local_txn, weights=line, minlength=n).astype(np.int64)
        transactions = pa.table(
            {
                "id": np.arange(t_lo + 1, t_lo + n + 1, dtype=np.int64),
                "customer": customer + 1,
                "transaction_date": as_date32(self.day_ordinals[t_day]),
                "transaction_time": pa.array(d["seconds"].astype(np.int32), pa.time32("s")),
                "payment": dictionary(d["payment"], PAYMENT_METHODS),
                **self.addresses(customer, t_day),
                "total_cents": total,
            }
        )
        items = pa.table(
            {
                "id": np.arange(i_lo + 1, i_lo + m + 1, dtype=np.int64),
                "txn": d["txn"] + 1,
                "product": d["product"].astype(np.int64) + 1,
                "quantity": quantity,
                "unit_cents": unit,
                "discount": discount.astype(np.int32),
                "line_cents": line.astype(np.int64),
            }
        )
        return transactions, items
