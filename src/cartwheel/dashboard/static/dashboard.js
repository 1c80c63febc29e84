/* cartwheel dashboard: filters the embedded, pre-aggregated data and redraws every visual.
 * Text from the data only ever reaches the page through textContent or Chart.js canvases,
 * never as HTML. */
(function () {
  "use strict";

  const PAYLOAD = JSON.parse(document.getElementById("cw-data").textContent);
  const D = PAYLOAD.data;
  const dims = D.dims;
  const PALETTE = [
    "#3559e0", "#0ea5a4", "#f59e0b", "#ef4444", "#8b5cf6", "#10b981", "#ec4899",
    "#64748b", "#84cc16", "#06b6d4", "#f97316", "#a855f7",
  ];
  const SEGMENT_COLOURS = { New: "#93c5fd", Regular: "#3559e0", VIP: "#f59e0b" };
  const FILTER_LABELS = {
    date_range: "date", category: "category", state: "state", payment_method: "payment",
  };

  const money0 = new Intl.NumberFormat("en-US", {
    style: "currency", currency: "USD", maximumFractionDigits: 0,
  });
  const money2 = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
  const int0 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const compact = new Intl.NumberFormat("en-US", {
    notation: "compact", maximumFractionDigits: 1,
  });
  const moneyCompact = (v) => "$" + compact.format(v);
  const monthLabel = (key) => {
    const names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    return names[(key % 100) - 1] + " " + Math.floor(key / 100);
  };
  const colourOf = (i) => PALETTE[i % PALETTE.length];
  const cents = (v) => Math.round(v * 100) / 100;

  // ---------------------------------------------------------------- state and filters
  const f = { from: 0, to: dims.months.length - 1, category: -1, state: -1, payment: -1 };
  let currentPage = PAYLOAD.layout[0].id;
  const charts = {};
  const status = {};
  const dirty = new Set();

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function fillSelect(select, options, allLabel) {
    select.replaceChildren();
    if (allLabel) select.appendChild(el("option", { value: "-1" }, allLabel));
    options.forEach((label, i) => select.appendChild(el("option", { value: String(i) }, label)));
  }

  const monthKeys = dims.months;
  const inMonths = (key) => {
    const lo = f.from === 0 ? -Infinity : monthKeys[f.from];
    const hi = f.to === monthKeys.length - 1 ? Infinity : monthKeys[f.to];
    return key >= lo && key <= hi;
  };
  const is = (value, chosen) => chosen < 0 || value === chosen;
  const inRange = (month) => month >= f.from && month <= f.to;
  const chosenMonths = () => monthKeys.map((_, i) => i).filter(inRange);
  const labelOf = (month) => monthLabel(monthKeys[month]);

  // Sum `fields` of a column-oriented table over rows passing `keep`, grouped by `key`.
  function group(table, keep, key, fields) {
    const out = new Map();
    const n = table[fields[0]].length;
    for (let i = 0; i < n; i++) {
      if (!keep(i)) continue;
      const k = key(i);
      let acc = out.get(k);
      if (!acc) { acc = new Array(fields.length).fill(0); out.set(k, acc); }
      for (let j = 0; j < fields.length; j++) acc[j] += table[fields[j]][i] || 0;
    }
    return out;
  }

  const S = D.sales;
  const O = D.orders;
  const salesKeep = (i) => inRange(S.month[i]) && is(S.category[i], f.category)
    && is(S.state[i], f.state) && is(S.payment_method[i], f.payment);
  const ordersKeep = (i) => inRange(O.month[i]) && is(O.state[i], f.state)
    && is(O.payment_method[i], f.payment);

  // Orders per key: transaction-level cube unless a category is chosen (a transaction can
  // hold several categories, so only the sales cube knows "orders with this category").
  function ordersBy(salesKey, ordersKey) {
    if (f.category >= 0) {
      const g = group(S, salesKeep, salesKey, ["orders"]);
      return new Map([...g].map(([k, v]) => [k, v[0]]));
    }
    const g = group(O, ordersKeep, ordersKey, ["orders"]);
    return new Map([...g].map(([k, v]) => [k, v[0]]));
  }

  function kpiValues() {
    const t = group(S, salesKeep, () => 0, ["revenue", "profit", "units", "costed_revenue"])
      .get(0) || [0, 0, 0, 0];
    const orders = ordersBy(() => 0, () => 0).get(0) || 0;
    return {
      revenue: cents(t[0]),
      profit: cents(t[1]),
      orders: orders,
      aov: orders ? cents(t[0] / orders) : 0,
      // Over the lines whose cost is known; null when no line has a cost in the data.
      margin: t[3] ? Math.round((t[1] / t[3]) * 10000) / 100 : null,
      costedShare: t[0] ? t[3] / t[0] : 1,
      units: t[2],
    };
  }

  // ---------------------------------------------------------------- chart helpers
  Chart.defaults.animation = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#475467";
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
  Chart.defaults.datasets.bar.maxBarThickness = 64;

  const moneyAxis = { ticks: { callback: (v) => moneyCompact(v) }, beginAtZero: true };
  const moneyTooltip = {
    callbacks: {
      label: (c) => (c.dataset.label ? c.dataset.label + ": " : "")
        + money0.format(c.parsed.y !== undefined && c.chart.options.indexAxis !== "y" ? c.parsed.y : c.parsed.x),
    },
  };

  function setStatus(id, points) {
    status[id] = { rendered: true, points: points, empty: points === 0 };
  }

  function showEmpty(box, id, message) {
    if (charts[id]) { charts[id].destroy(); delete charts[id]; }
    box.replaceChildren(el("div", { class: "empty" }, message || "No data for these filters"));
    setStatus(id, 0);
  }

  // Draw or update a Chart.js chart in the visual's box.
  function draw(id, config, points, emptyMessage) {
    const box = document.getElementById("box-" + id);
    if (!points) return showEmpty(box, id, emptyMessage);
    const existing = charts[id];
    if (existing && existing.config.type === config.type) {
      existing.data = config.data;
      existing.options = config.options || {};
      existing.update("none");
    } else {
      if (existing) existing.destroy();
      const canvas = el("canvas", { role: "img", "aria-label": id });
      box.replaceChildren(canvas);
      charts[id] = new Chart(canvas, config);
    }
    setStatus(id, points);
  }

  function table(id, columns, rows, emptyMessage) {
    const box = document.getElementById("box-" + id);
    if (!rows.length) return showEmpty(box, id, emptyMessage);
    const t = el("table");
    const head = el("tr");
    columns.forEach((c) => head.appendChild(el("th", c.num ? { class: "num" } : {}, c.label)));
    t.appendChild(el("thead")).appendChild(head);
    const body = t.appendChild(el("tbody"));
    rows.forEach((row) => {
      const tr = body.appendChild(el("tr"));
      columns.forEach((c) => {
        const value = row[c.key];
        const cls = c.num ? "num" : c.wrap ? "name" : "";
        tr.appendChild(el("td", cls ? { class: cls } : {}, c.fmt ? c.fmt(value) : value));
      });
    });
    box.replaceChildren(el("div", { class: "table-box" }));
    box.firstChild.appendChild(t);
    setStatus(id, rows.length);
  }

  const sortedEntries = (map, idx) => [...map].sort((a, b) => b[1][idx || 0] - a[1][idx || 0]);

  // ---------------------------------------------------------------- visuals
  const V = {};

  V.kpis = () => {
    const k = kpiValues();
    const set = (id, value, text, hint) => {
      const node = document.getElementById("kpi-" + id);
      node.dataset.value = String(value);
      node.querySelector(".value").textContent = text;
      node.querySelector(".hint").textContent = hint;
    };
    set("revenue", k.revenue, money0.format(k.revenue), int0.format(k.units) + " units sold");
    set("orders", k.orders, int0.format(k.orders), "transactions");
    set("aov", k.aov, money2.format(k.aov), "revenue per transaction");
    if (k.margin === null) {
      set("margin", "", "unknown", "no cost in the data");
    } else {
      const partial = k.costedShare < 0.9995
        ? " (lines with a known cost: " + Math.round(k.costedShare * 100) + "% of revenue)" : "";
      set("margin", k.margin, k.margin.toFixed(1) + "%", money0.format(k.profit) + " profit" + partial);
    }
    setStatus("kpis", k.orders);
  };

  V.monthly_trend = () => {
    const rev = group(S, salesKeep, (i) => S.month[i], ["revenue"]);
    const orders = ordersBy((i) => S.month[i], (i) => O.month[i]);
    const months = chosenMonths();
    draw("monthly_trend", {
      type: "bar",
      data: {
        labels: months.map(labelOf),
        datasets: [
          { type: "bar", label: "Revenue", data: months.map((m) => cents((rev.get(m) || [0])[0])),
            backgroundColor: "#3559e0cc", borderRadius: 4, yAxisID: "y", order: 2 },
          { type: "line", label: "Orders", data: months.map((m) => orders.get(m) || 0),
            borderColor: "#f59e0b", backgroundColor: "#f59e0b", yAxisID: "y1", tension: .3,
            pointRadius: 2, order: 1 },
        ],
      },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: {
          y: moneyAxis,
          y1: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
            title: { display: true, text: "orders" } },
        },
      },
    }, rev.size);
  };

  function hbar(id, labels, values, colours, fmt, emptyMessage) {
    draw(id, {
      type: "bar",
      data: { labels, datasets: [{ data: values, backgroundColor: colours, borderRadius: 4 }] },
      options: {
        indexAxis: "y",
        plugins: { legend: { display: false },
          tooltip: { callbacks: { label: (c) => (fmt || money0.format)(c.parsed.x) } } },
        scales: { x: fmt ? { beginAtZero: true } : moneyAxis, y: { ticks: { autoSkip: false } } },
      },
    }, values.length, emptyMessage);
  }

  V.revenue_by_category = () => {
    const g = sortedEntries(group(S, salesKeep, (i) => S.category[i], ["revenue"]));
    hbar("revenue_by_category", g.map(([c]) => dims.categories[c]),
      g.map(([, v]) => cents(v[0])), g.map(([c]) => colourOf(c)));
  };

  V.payment_mix = () => {
    const g = sortedEntries(group(S, salesKeep, (i) => S.payment_method[i], ["revenue"]));
    const total = g.reduce((s, [, v]) => s + v[0], 0);
    draw("payment_mix", {
      type: "doughnut",
      data: {
        labels: g.map(([p]) => dims.payment_methods[p]),
        datasets: [{ data: g.map(([, v]) => cents(v[0])), backgroundColor: g.map(([p]) => colourOf(p + 5)) }],
      },
      options: {
        cutout: "58%",
        plugins: {
          legend: { position: "right" },
          tooltip: { callbacks: { label: (c) => c.label + ": " + money0.format(c.parsed)
            + " (" + (100 * c.parsed / total).toFixed(1) + "%)" } },
        },
      },
    }, g.length);
  };

  V.revenue_by_state = () => {
    const g = sortedEntries(group(S, salesKeep, (i) => S.state[i], ["revenue"]));
    draw("revenue_by_state", {
      type: "bar",
      data: {
        labels: g.map(([s]) => dims.states[s]),
        datasets: [{ label: "Revenue", data: g.map(([, v]) => cents(v[0])),
          backgroundColor: "#0ea5a4cc", borderRadius: 4 }],
      },
      options: { plugins: { legend: { display: false }, tooltip: moneyTooltip },
        scales: { y: moneyAxis, x: { ticks: { autoSkip: false } } } },
    }, g.length);
  };

  const P = D.products;
  const PS = D.product_sales;
  const productKeep = (i) => inRange(PS.month[i]) && is(P.category[PS.product[i]], f.category);
  function productTotals() {
    const g = group(PS, productKeep, (i) => PS.product[i], ["revenue", "profit", "units"]);
    return sortedEntries(g);
  }

  const shorten = (s, n) => (s.length > n ? s.slice(0, n - 1) + "…" : s);
  V.top_products = () => {
    const top = productTotals().slice(0, 10);
    hbar("top_products", top.map(([p]) => shorten(P.product_name[p], 38)),
      top.map(([, v]) => cents(v[0])), top.map(([p]) => colourOf(P.category[p])));
  };

  V.subcategory_breakdown = () => {
    const SC = D.sub_categories;
    const keep = (i) => inRange(SC.month[i]) && is(SC.category[i], f.category);
    const g = group(SC, keep, (i) => SC.category[i] + ":" + SC.sub_category[i], ["revenue"]);
    const rows = [...g].map(([k, v]) => {
      const [c, s] = k.split(":").map(Number);
      return { c, s, revenue: v[0] };
    });
    const catTotals = new Map();
    rows.forEach((r) => catTotals.set(r.c, (catTotals.get(r.c) || 0) + r.revenue));
    rows.sort((a, b) => catTotals.get(b.c) - catTotals.get(a.c) || a.c - b.c || b.revenue - a.revenue);
    const labels = rows.map((r) => dims.sub_categories[r.s]);
    const cats = [...catTotals.keys()].sort((a, b) => catTotals.get(b) - catTotals.get(a));
    draw("subcategory_breakdown", {
      type: "bar",
      data: {
        labels,
        datasets: cats.map((c) => ({
          label: dims.categories[c],
          data: rows.map((r) => (r.c === c ? cents(r.revenue) : null)),
          backgroundColor: colourOf(c), borderRadius: 3, skipNull: true,
        })),
      },
      options: {
        plugins: { tooltip: moneyTooltip },
        scales: { x: { stacked: true, ticks: { autoSkip: false, maxRotation: 60 } },
          y: { ...moneyAxis, stacked: true } },
      },
    }, rows.length);
  };

  V.price_vs_profit = () => {
    const totals = productTotals();
    const byCat = new Map();
    totals.forEach(([p, v]) => {
      const c = P.category[p];
      if (!byCat.has(c)) byCat.set(c, []);
      byCat.get(c).push({ x: P.price[p], y: cents(v[1]), name: P.product_name[p] });
    });
    draw("price_vs_profit", {
      type: "scatter",
      data: {
        datasets: [...byCat].map(([c, points]) => ({
          label: dims.categories[c], data: points, backgroundColor: colourOf(c) + "bb",
          pointRadius: 4,
        })),
      },
      options: {
        plugins: { tooltip: { callbacks: { label: (c) => c.raw.name + ": price "
          + money2.format(c.raw.x) + ", profit " + money0.format(c.raw.y) } } },
        scales: {
          x: { type: "logarithmic", title: { display: true, text: "current price (log scale)" },
            ticks: { callback: (v) => ([1, 2, 5].includes(+String(v)[0]) ? "$" + v : "") } },
          y: { title: { display: true, text: "profit in period" },
            ticks: { callback: (v) => moneyCompact(v) } },
        },
      },
    }, totals.length);
  };

  V.product_table = () => {
    const rows = productTotals().slice(0, 25).map(([p, v]) => ({
      name: P.product_name[p], category: dims.categories[P.category[p]],
      sub: P.sub_category[p], brand: P.brand[p], price: P.price[p], units: v[2],
      revenue: v[0], profit: v[1], margin: v[0] ? (100 * v[1]) / v[0] : 0,
    }));
    table("product_table", [
      { key: "name", label: "Product", wrap: true },
      { key: "category", label: "Category" },
      { key: "sub", label: "Sub-category" },
      { key: "brand", label: "Brand" },
      { key: "price", label: "Price", num: true, fmt: (v) => money2.format(v) },
      { key: "units", label: "Units", num: true, fmt: (v) => int0.format(v) },
      { key: "revenue", label: "Revenue", num: true, fmt: (v) => money0.format(v) },
      { key: "profit", label: "Profit", num: true, fmt: (v) => money0.format(v) },
      { key: "margin", label: "Margin", num: true, fmt: (v) => v.toFixed(1) + "%" },
    ], rows);
  };

  V.spend_segments = () => {
    const SP = D.spend;
    const g = group(SP, (i) => is(SP.state[i], f.state), (i) => SP.band[i],
      ["customer_count", "revenue"]);
    const bands = dims.spend_bands.map((_, i) => g.get(i + 1) || [0, 0]);
    draw("spend_segments", {
      type: "bar",
      data: {
        labels: dims.spend_bands,
        datasets: [
          { type: "bar", label: "Customers", data: bands.map((b) => b[0]),
            backgroundColor: ["#bfdbfe", "#60a5fa", "#3559e0", "#1e3a8a"], yAxisID: "y",
            borderRadius: 4, order: 2 },
          { type: "line", label: "Revenue", data: bands.map((b) => cents(b[1])),
            borderColor: "#f59e0b", backgroundColor: "#f59e0b", yAxisID: "y1", order: 1 },
        ],
      },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, title: { display: true, text: "customers" } },
          y1: { ...moneyAxis, position: "right", grid: { drawOnChartArea: false } } },
      },
    }, g.size);
  };

  V.acquisition = () => {
    const A = D.acquisition;
    const g = group(A, (i) => inMonths(A.month_key[i]) && is(A.state[i], f.state),
      (i) => A.month_key[i], ["customers"]);
    const months = [...g.keys()].sort((a, b) => a - b);
    draw("acquisition", {
      type: "line",
      data: {
        labels: months.map(monthLabel),
        datasets: [{ label: "New customers", data: months.map((m) => g.get(m)[0]),
          borderColor: "#10b981", backgroundColor: "#10b98133", fill: true, tension: .3,
          pointRadius: 2 }],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
    }, months.length);
  };

  V.top_customers = () => {
    const T = D.top_customers;
    const stateName = f.state >= 0 ? dims.states[f.state] : null;
    const rows = [];
    for (let i = 0; i < T.customer_id.length; i++) {
      const ok = stateName === null ? T.overall_rank[i] <= 10
        : T.state[i] === stateName && T.state_rank[i] <= 10;
      if (ok) rows.push({
        id: T.customer_id[i], name: T.full_name[i], state: T.state[i],
        segment: T.customer_segment[i], spent: T.total_spent[i],
        orders: T.transaction_count[i], aov: T.avg_order_value[i],
      });
    }
    rows.sort((a, b) => b.spent - a.spent);
    table("top_customers", [
      { key: "name", label: "Customer", wrap: true },
      { key: "id", label: "ID" },
      { key: "state", label: "State" },
      { key: "segment", label: "Segment" },
      { key: "orders", label: "Orders", num: true, fmt: (v) => int0.format(v) },
      { key: "aov", label: "Avg order", num: true, fmt: (v) => money2.format(v) },
      { key: "spent", label: "Total spent", num: true, fmt: (v) => money0.format(v) },
    ], rows.slice(0, 10));
  };

  V.segment_mix = () => {
    const g = group(O, ordersKeep, (i) => O.month[i] * 10 + O.customer_segment[i], ["revenue"]);
    const months = chosenMonths();
    draw("segment_mix", {
      type: "bar",
      data: {
        labels: months.map(labelOf),
        datasets: dims.segments.map((s, si) => ({
          label: s, data: months.map((m) => cents((g.get(m * 10 + si) || [0])[0])),
          backgroundColor: SEGMENT_COLOURS[s] || colourOf(si),
        })),
      },
      options: {
        interaction: { mode: "index", intersect: false },
        plugins: { tooltip: moneyTooltip },
        scales: { x: { stacked: true }, y: { ...moneyAxis, stacked: true } },
      },
    }, g.size);
  };

  V.state_performance = () => {
    const g = sortedEntries(group(S, salesKeep, (i) => S.state[i], ["revenue"]));
    const orders = ordersBy((i) => S.state[i], (i) => O.state[i]);
    draw("state_performance", {
      type: "bar",
      data: {
        labels: g.map(([s]) => dims.states[s]),
        datasets: [
          { type: "bar", label: "Revenue", data: g.map(([, v]) => cents(v[0])),
            backgroundColor: "#3559e0cc", borderRadius: 4, yAxisID: "y", order: 2 },
          { type: "line", label: "Average order value",
            data: g.map(([s, v]) => cents(v[0] / (orders.get(s) || 1))),
            borderColor: "#ef4444", backgroundColor: "#ef4444", yAxisID: "y1", order: 1 },
        ],
      },
      options: {
        interaction: { mode: "index", intersect: false },
        plugins: { tooltip: { callbacks: { label: (c) => c.dataset.label + ": "
          + (c.datasetIndex ? money2 : money0).format(c.parsed.y) } } },
        scales: { y: moneyAxis, x: { ticks: { autoSkip: false } },
          y1: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
            ticks: { callback: (v) => "$" + v } } },
      },
    }, g.length);
  };

  V.day_of_week = () => {
    const W = D.weekdays;
    const C = D.calendar;
    const rev = group(W, (i) => inRange(W.month[i]) && is(W.category[i], f.category),
      (i) => W.iso_day_of_week[i], ["revenue", "orders"]);
    const days = group(C, (i) => inRange(C.month[i]), (i) => C.iso_day_of_week[i], ["days"]);
    const values = dims.weekdays.map((_, d) => {
      const n = (days.get(d + 1) || [0])[0];
      return n ? cents((rev.get(d + 1) || [0])[0] / n) : 0;
    });
    draw("day_of_week", {
      type: "bar",
      data: {
        labels: dims.weekdays,
        datasets: [{ label: "Average revenue per day", data: values, borderRadius: 4,
          backgroundColor: dims.weekdays.map((_, d) => (d >= 5 ? "#f59e0b" : "#3559e0cc")) }],
      },
      options: { plugins: { legend: { display: false }, tooltip: moneyTooltip },
        scales: { y: moneyAxis } },
    }, rev.size);
  };

  V.category_trend = () => {
    const g = group(S, salesKeep, (i) => S.month[i] * 100 + S.category[i], ["revenue"]);
    const months = chosenMonths();
    const cats = dims.categories.map((_, c) => c).filter((c) => is(c, f.category));
    draw("category_trend", {
      type: "bar",
      data: {
        labels: months.map(labelOf),
        datasets: cats.map((c) => ({
          label: dims.categories[c], backgroundColor: colourOf(c),
          data: months.map((m) => cents((g.get(m * 100 + c) || [0])[0])),
        })),
      },
      options: {
        interaction: { mode: "index", intersect: false },
        plugins: { tooltip: moneyTooltip },
        scales: { x: { stacked: true }, y: { ...moneyAxis, stacked: true } },
      },
    }, g.size);
  };

  // -------------------------------------------------------------- quality and health
  const Q = PAYLOAD.quality || {};
  const H = PAYLOAD.pipeline || {};
  const NO_DATA = "No data yet: this appears after a run with quality checks and run history";
  const pillClass = (s) => {
    s = String(s || "").toLowerCase();
    if (["passed", "pass", "ok", "healthy", "success", "succeeded"].includes(s)) return "pill good";
    if (["warning", "warn", "degraded", "running", "skipped"].includes(s)) return "pill warn";
    if (s) return "pill bad";
    return "pill";
  };

  V.quality_score = () => {
    const box = document.getElementById("box-quality_score");
    if (Q.score === null || Q.score === undefined) return showEmpty(box, "quality_score", NO_DATA);
    const grade = el("div", { class: "grade" }, Q.grade || "?");
    const colours = { A: "#12a150", B: "#65a30d", C: "#e6a100", D: "#f97316", F: "#d92d20" };
    grade.style.background = colours[Q.grade] || "#64748b";
    const text = el("div");
    text.appendChild(el("div", { class: "big", id: "quality-score-value" }, Number(Q.score).toFixed(1)));
    text.appendChild(el("div", { class: "kpi-hint" }, "quality score out of 100"));
    text.appendChild(el("div", { class: "applies" }, Q.checked_at ? "checked " + Q.checked_at : ""));
    const gauge = el("div", { class: "chart-box" });
    gauge.style.width = "240px";
    gauge.style.height = "130px";
    const canvas = el("canvas");
    gauge.appendChild(canvas);
    const wrap = el("div", { class: "status" });
    wrap.append(gauge, grade, text);
    box.replaceChildren(wrap);
    if (charts.quality_score) charts.quality_score.destroy();
    charts.quality_score = new Chart(canvas, {
      type: "doughnut",
      data: { labels: ["score", "gap"], datasets: [{ data: [Q.score, Math.max(0, 100 - Q.score)],
        backgroundColor: [colours[Q.grade] || "#3559e0", "#e4e7ec"], borderWidth: 0 }] },
      options: { rotation: -90, circumference: 180, cutout: "70%",
        plugins: { legend: { display: false }, tooltip: { enabled: false } } },
    });
    setStatus("quality_score", 1);
  };

  V.checks_by_dimension = () => {
    const rows = Q.dimensions || [];
    draw("checks_by_dimension", {
      type: "bar",
      data: {
        labels: rows.map((r) => (r.score === null || r.score === undefined
          ? r.dimension : r.dimension + " · " + r.score)),
        datasets: [
          { label: "passed", data: rows.map((r) => r.passed), backgroundColor: "#12a150" },
          { label: "warning", data: rows.map((r) => r.warning || 0), backgroundColor: "#e6a100" },
          { label: "failed", data: rows.map((r) => r.failed), backgroundColor: "#d92d20" },
        ],
      },
      options: { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true,
        ticks: { precision: 0 } }, y: { stacked: true } } },
    }, rows.length, NO_DATA);
  };

  V.quarantine_by_reason = () => {
    // The biggest reasons; the long tail folded into one bar so every label stays readable.
    const all = (Q.quarantine || []).slice().sort((a, b) => b.rows - a.rows);
    const top = all.slice(0, 12).map((r) => [shorten(r.entity + ": " + r.reason.replaceAll("_", " "), 46), r.rows]);
    if (all.length > 12) {
      top.push(["other reasons (" + (all.length - 12) + ")",
        all.slice(12).reduce((n, r) => n + r.rows, 0)]);
    }
    const empty = Q.quarantine_known ? "Nothing quarantined: every row passed" : NO_DATA;
    hbar("quarantine_by_reason", top.map((r) => r[0]), top.map((r) => r[1]), "#ef4444cc",
      (v) => int0.format(v) + " rows", empty);
  };

  V.revenue_forecast = () => {
    const F = PAYLOAD.forecast || { series: {} };
    const name = f.category >= 0 ? dims.categories[f.category] : "All";
    const s = F.series[name];
    if (!s || !(s.forecast || []).length) {
      return showEmpty(document.getElementById("box-revenue_forecast"), "revenue_forecast",
        F.note || "No forecast for this category");
    }
    const past = F.history_dates.length;
    const gap = (n) => new Array(n).fill(null);
    const ahead = (values) => gap(past).concat(values);
    draw("revenue_forecast", {
      type: "line",
      data: {
        labels: F.history_dates.concat(F.forecast_dates),
        datasets: [
          { label: "Revenue", data: s.history.concat(gap(F.forecast_dates.length)),
            borderColor: "#3559e0", backgroundColor: "#3559e0", pointRadius: 0, borderWidth: 1.5 },
          { label: "Forecast", data: ahead(s.forecast), borderColor: "#f59e0b",
            backgroundColor: "#f59e0b", pointRadius: 0, borderWidth: 2 },
          { label: "80% band", data: ahead(s.upper_80), borderColor: "transparent",
            backgroundColor: "#f59e0b33", pointRadius: 0, fill: "+1" },
          { label: "80% band (low)", data: ahead(s.lower_80), borderColor: "transparent",
            pointRadius: 0, fill: false },
        ],
      },
      options: {
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { labels: { filter: (item) => item.text !== "80% band (low)" } } },
        scales: { x: { ticks: { maxTicksLimit: 12 } }, y: { ...moneyAxis, beginAtZero: true } },
      },
    }, past + s.forecast.length);
  };

  V.quality_history = () => {
    const rows = Q.history || [];
    draw("quality_history", {
      type: "line",
      data: { labels: rows.map((r) => String(r.at).slice(0, 16)),
        datasets: [{ label: "score", data: rows.map((r) => r.score), borderColor: "#3559e0",
          backgroundColor: "#3559e033", fill: true, pointRadius: 3 }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { min: 0, max: 100 } } },
    }, rows.length, NO_DATA);
  };

  V.monitor_status = () => {
    const box = document.getElementById("box-monitor_status");
    const m = H.monitor;
    if (!m) return showEmpty(box, "monitor_status", "No monitoring report yet: run `cartwheel monitor`");
    const wrap = el("div");
    const head = el("div", { class: "status" });
    head.appendChild(el("span", { class: pillClass(m.health) + " big-pill" }, m.health || "unknown"));
    head.appendChild(el("span", { class: "big" }, m.score === null ? "–" : String(m.score)));
    head.appendChild(el("span", { class: "applies" }, "health score · " + (m.checked_at || "")));
    wrap.appendChild(head);
    const list = el("ul", { class: "checks" });
    (m.checks || []).forEach((c) => {
      const li = el("li");
      const left = el("div");
      left.appendChild(el("div", {}, c.check.replaceAll("_", " ")));
      if (c.message) left.appendChild(el("div", { class: "msg" }, c.message));
      li.append(left, el("span", { class: pillClass(c.status) }, c.status));
      list.appendChild(li);
    });
    (m.alerts || []).forEach((a) => {
      const li = el("li");
      li.append(el("div", {}, a), el("span", { class: "pill bad" }, "alert"));
      list.appendChild(li);
    });
    wrap.appendChild(list);
    box.replaceChildren(wrap);
    setStatus("monitor_status", (m.checks || []).length + 1);
  };

  V.last_runs = () => {
    const rows = H.runs || [];
    const colour = (s) => ({ success: "#12a150", succeeded: "#12a150", running: "#e6a100" })[s] || "#d92d20";
    draw("last_runs", {
      type: "bar",
      data: { labels: rows.map((r) => String(r.started_at).slice(5, 19).replace("T", " ")),
        datasets: [{ label: "seconds", data: rows.map((r) => r.seconds || 0), maxBarThickness: 56,
          backgroundColor: rows.map((r) => colour(String(r.status).toLowerCase())), borderRadius: 4 }] },
      options: { plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, title: { display: true, text: "seconds" } } } },
    }, rows.length, NO_DATA);
  };

  V.step_durations = () => {
    const rows = H.steps || [];
    hbar("step_durations", rows.map((r) => r.step), rows.map((r) => r.seconds || 0),
      rows.map((r) => (pillClass(r.status) === "pill good" ? "#3559e0cc" : "#d92d20")),
      (v) => v.toFixed(3) + " s", NO_DATA);
  };

  V.run_table = () => {
    const rows = (H.runs || []).slice().reverse();
    table("run_table", [
      { key: "started_at", label: "Started (UTC)", fmt: (v) => String(v).slice(0, 19).replace("T", " ") },
      { key: "status", label: "Status" },
      { key: "seconds", label: "Seconds", num: true, fmt: (v) => (v === null ? "–" : v.toFixed(2)) },
      { key: "run_id", label: "Run" },
    ], rows, NO_DATA);
  };

  // ---------------------------------------------------------------- layout and wiring
  const SPANS = {
    monthly_trend: 8, revenue_by_category: 4, payment_mix: 5, revenue_by_state: 7,
    top_products: 6, subcategory_breakdown: 6, price_vs_profit: 12, product_table: 12,
    spend_segments: 5, acquisition: 7, top_customers: 6, segment_mix: 6,
    state_performance: 12, day_of_week: 5, category_trend: 7, revenue_forecast: 12,
    quality_score: 6, checks_by_dimension: 6, quarantine_by_reason: 6, quality_history: 6,
    monitor_status: 5, last_runs: 7, step_durations: 5, run_table: 7,
  };
  const LEDES = {
    executive: "How the shop is doing, for the filters above.",
    products: "What sells and what earns. Product visuals follow the date and category filters.",
    customers: "Who buys. Lifetime views follow the state filter.",
    geography: "Where and when the shop sells.",
    quality: "How clean the incoming data was. Filters do not apply here.",
    pipeline: "Whether the pipeline runs on time and healthily. Filters do not apply here.",
  };

  function buildPages() {
    const tabs = document.getElementById("tabs");
    const main = document.getElementById("pages");
    PAYLOAD.layout.forEach((page) => {
      const tab = el("button", { role: "tab", "data-page": page.id, id: "tab-" + page.id }, page.title);
      tab.addEventListener("click", () => showPage(page.id));
      tabs.appendChild(tab);
      const section = el("section", { class: "page", id: "page-" + page.id });
      section.appendChild(el("h2", {}, page.title));
      section.appendChild(el("p", { class: "lede" }, LEDES[page.id] || ""));
      const grid = el("div", { class: "grid" });
      page.visuals.forEach((v) => {
        if (v.kind === "kpi") {
          const kpis = el("div", { class: "kpis span-12", id: "visual-kpis", "data-visual": "kpis" });
          [["revenue", "Total revenue"], ["orders", "Transactions"], ["aov", "Average order value"],
            ["margin", "Profit margin"]].forEach(([id, label]) => {
            const card = el("div", { class: "kpi", id: "kpi-" + id });
            card.append(el("div", { class: "label" }, label), el("div", { class: "value" }, "–"),
              el("div", { class: "hint" }, ""));
            kpis.appendChild(card);
          });
          grid.appendChild(kpis);
          return;
        }
        const card = el("div", { class: "card span-" + (SPANS[v.id] || 6), id: "visual-" + v.id,
          "data-visual": v.id });
        card.appendChild(el("h3", {}, v.title));
        const applies = v.filters.length
          ? "Filters: " + v.filters.map((x) => FILTER_LABELS[x]).join(", ")
          : "Not filtered";
        card.appendChild(el("div", { class: "applies" }, applies + (v.note ? " · " + v.note : "")));
        const tall = ["product_table", "top_customers", "state_performance"].includes(v.id);
        const box = el("div", { class: "chart-box" + (tall ? " tall" : ""), id: "box-" + v.id });
        if (["table", "status"].includes(v.kind)) box.style.height = "auto";
        card.appendChild(box);
        grid.appendChild(card);
      });
      section.appendChild(grid);
      main.appendChild(section);
      page.visuals.forEach((v) => dirty.add(v.id));
    });
  }

  const pageOf = {};
  PAYLOAD.layout.forEach((p) => p.visuals.forEach((v) => { pageOf[v.id] = p.id; }));

  function renderPage(pageId) {
    const page = PAYLOAD.layout.find((p) => p.id === pageId);
    page.visuals.forEach((v) => {
      if (!dirty.has(v.id)) return;
      dirty.delete(v.id);
      V[v.id]();
    });
  }

  function showPage(pageId) {
    if (!pageOf || !PAYLOAD.layout.some((p) => p.id === pageId)) pageId = PAYLOAD.layout[0].id;
    currentPage = pageId;
    document.querySelectorAll(".page").forEach((s) => s.classList.toggle("active", s.id === "page-" + pageId));
    document.querySelectorAll("#tabs button").forEach((b) =>
      b.setAttribute("aria-selected", String(b.dataset.page === pageId)));
    const filtered = PAYLOAD.layout.find((p) => p.id === pageId).visuals.some((v) => v.filters.length);
    document.getElementById("filters").classList.toggle("disabled", !filtered);
    renderPage(pageId);
    writeHash();
  }

  function writeHash() {
    const parts = ["page=" + currentPage];
    if (f.from > 0) parts.push("from=" + monthKeys[f.from]);
    if (f.to < monthKeys.length - 1) parts.push("to=" + monthKeys[f.to]);
    if (f.category >= 0) parts.push("category=" + encodeURIComponent(dims.categories[f.category]));
    if (f.state >= 0) parts.push("state=" + encodeURIComponent(dims.states[f.state]));
    if (f.payment >= 0) parts.push("payment=" + encodeURIComponent(dims.payment_methods[f.payment]));
    history.replaceState(null, "", "#" + parts.join("&"));
  }

  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    const month = (k) => monthKeys.indexOf(Number(params.get(k)));
    if (month("from") >= 0) f.from = month("from");
    if (month("to") >= 0) f.to = month("to");
    f.category = dims.categories.indexOf(params.get("category") || "");
    f.state = dims.states.indexOf(params.get("state") || "");
    f.payment = dims.payment_methods.indexOf(params.get("payment") || "");
    return params.get("page") || currentPage;
  }

  const selects = {
    from: document.getElementById("f-from"), to: document.getElementById("f-to"),
    category: document.getElementById("f-category"), state: document.getElementById("f-state"),
    payment: document.getElementById("f-payment"),
  };

  function syncSelects() {
    for (const [k, s] of Object.entries(selects)) s.value = String(f[k]);
    const active = [];
    if (f.from > 0 || f.to < monthKeys.length - 1) {
      active.push(monthLabel(monthKeys[f.from]) + " – " + monthLabel(monthKeys[f.to]));
    }
    if (f.category >= 0) active.push(dims.categories[f.category]);
    if (f.state >= 0) active.push(dims.states[f.state]);
    if (f.payment >= 0) active.push(dims.payment_methods[f.payment]);
    document.getElementById("active-filters").textContent =
      active.length ? "Showing: " + active.join(" · ") : "Showing everything";
  }

  function onFilter() {
    for (const [k, s] of Object.entries(selects)) f[k] = Number(s.value);
    if (f.from > f.to) {
      if (this === selects.from) f.to = f.from; else f.from = f.to;
    }
    syncSelects();
    for (const id of Object.keys(pageOf)) {
      const visual = PAYLOAD.layout.flatMap((p) => p.visuals).find((v) => v.id === id);
      if (visual.filters.length) dirty.add(id);
    }
    renderPage(currentPage);
    writeHash();
  }

  function init() {
    const src = PAYLOAD.source || {};
    document.getElementById("source-line").textContent = "Data: " + (src.engine || "") + " · "
      + (src.database || "") + " · generated " + (PAYLOAD.generated_at || "");
    document.getElementById("footer").textContent = "cartwheel dashboard · "
      + int0.format(S.revenue.length) + " pre-aggregated cells · months "
      + monthLabel(monthKeys[0]) + " – " + monthLabel(monthKeys[monthKeys.length - 1])
      + " · charts by Chart.js (MIT)";
    fillSelect(selects.from, monthKeys.map(monthLabel));
    fillSelect(selects.to, monthKeys.map(monthLabel));
    fillSelect(selects.category, dims.categories, "All categories");
    fillSelect(selects.state, dims.states, "All states");
    fillSelect(selects.payment, dims.payment_methods, "All payment methods");
    Object.values(selects).forEach((s) => s.addEventListener("change", onFilter));
    document.getElementById("f-reset").addEventListener("click", () => {
      Object.assign(f, { from: 0, to: monthKeys.length - 1, category: -1, state: -1, payment: -1 });
      syncSelects();
      onFilter.call(null);
    });
    buildPages();
    const page = readHash();
    syncSelects();
    showPage(page);
    window.addEventListener("hashchange", () => {
      const p = readHash();
      syncSelects();
      onFilter.call(null);
      if (p !== currentPage) showPage(p);
    });
  }

  // What the browser test reads (no effect on the page).
  window.cartwheel = {
    status, kpis: kpiValues, filters: f, charts,
    visuals: () => PAYLOAD.layout.flatMap((p) => p.visuals.map((v) => ({ page: p.id, id: v.id }))),
  };
  if (!monthKeys.length) {
    document.getElementById("pages").textContent = "No sales in the warehouse yet: run `cartwheel run`.";
    window.cartwheel.ready = true;
    return;
  }
  init();
  window.cartwheel.ready = true;
})();
