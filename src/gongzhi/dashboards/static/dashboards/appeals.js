// The leaders' appeal dashboard: one JSON request, then KPI cards, ECharts charts and tables.
// Every word on the page comes translated from the server (#dashboard-labels); numbers from the payload.
// Names (areas, categories, units) are typed by users: they go on the page as text only, through el()
// (textContent), never as markup; ECharts tooltips get DOM nodes built by tip(), not HTML strings.
// ECharts from its place beside this file under STATIC_URL: an inline import map is an inline script,
// which the Content Security Policy forbids.
import * as echarts from "../vendor/echarts/echarts.esm.min.js";

const root = document.getElementById("dashboard");
const L = JSON.parse(document.getElementById("dashboard-labels").textContent);
const FONT = getComputedStyle(document.body).fontFamily;
const PALETTE = ["#c0392b", "#0b5cad", "#1a7f37", "#9a6700", "#8250df", "#e8a29a"];
const charts = [];

const pct = (v) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
const pctNum = (v) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10);
const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_m, k) => String(values[k]));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

// A tooltip: a title and rows of [label, value, colour]. A DOM node, so nothing in it is ever parsed as
// HTML; the colour dot is styled through the CSSOM (the CSP allows no style attributes in markup).
function tip(title, rows) {
  return el("div", { class: "chart-tip" }, el("div", { class: "chart-tip-title", text: title }),
    ...rows.map(([label, value, color]) => {
      const dot = el("span", { class: "chart-tip-dot" });
      if (color) dot.style.backgroundColor = color;
      else dot.hidden = true;
      return el("div", { class: "chart-tip-row" }, dot, el("span", { class: "chart-tip-label", text: label }),
        el("span", { class: "chart-tip-value", text: value }));
    }));
}

// Axis tooltips list every series at the hovered category; valueOf(p) gives a series' value as shown.
const axisTip = (valueOf) => (params) => {
  const list = Array.isArray(params) ? params : [params];
  return tip(list.length ? String(list[0].name) : "", list.map((p) => [p.seriesName, valueOf(p), p.color]));
};
const valueText = (v) => (v === null || v === undefined || v === "-" ? "—" : `${v}`);
const percentText = (v) => (v === null || v === undefined || v === "-" ? "—" : `${v}%`);

function chart(id, option) {
  const box = document.getElementById(id);
  const c = echarts.init(box, null, { renderer: "canvas" });
  c.setOption({ color: PALETTE, textStyle: { fontFamily: FONT }, animationDuration: 400, ...option });
  charts.push(c);
  return c;
}

function empty(id) {
  return chart(id, {
    title: { text: L.none, left: "center", top: "middle", textStyle: { fontSize: 13, fontWeight: "normal", color: "#5f6b76" } },
  });
}

function pageUrl(nodeId, data) {
  const q = new URLSearchParams({ node: nodeId, period: "custom", from: data.date_from, to: data.date_to });
  return `${root.dataset.page}?${q}`;
}

// --- KPI cards -----------------------------------------------------------------------------------

function kpis(data) {
  const f = data.figures;
  const box = document.getElementById("kpis");
  const card = (key, value, sub, main = false) =>
    el("div", { class: `figure${main ? " main" : ""}`, "data-kpi": key },
      el("div", { class: "num", text: value }), el("div", { class: "label", text: L[key] }),
      el("div", { class: "sub", text: sub }));
  const parts = (key) => `${data.rate_parts[key][0]} / ${data.rate_parts[key][1]}`;
  box.replaceChildren(
    card("response_rate", pct(f.response_rate), parts("response_rate"), true),
    card("resolution_rate", pct(f.resolution_rate), parts("resolution_rate"), true),
    card("satisfaction_rate", pct(f.satisfaction_rate), parts("satisfaction_rate"), true),
    card("on_time_rate", pct(f.on_time_rate), parts("on_time_rate")),
    card("closure_rate", pct(f.closure_rate), parts("closure_rate")),
    card("rework_rate", pct(f.rework_rate), parts("rework_rate")),
    card("avg_handling_hours", f.avg_handling_hours === null ? "—" : `${f.avg_handling_hours}`,
      f.avg_handling_work_hours === null ? "" : `${f.avg_handling_work_hours} ${L.working_hours}`),
    card("filed", `${f.filed}`, `${L.valid} ${f.valid}`),
    card("open", `${f.open}`, `${L.overdue} ${data.overdue.count}`),
    waitingCard(data),
  );
}

// Appeal changes the figures do not include yet (the worker is still counting a burst of them): usually 0.
// Its meaning in a tooltip and, for screen readers and touch screens, in a hidden line of the card.
function waitingCard(data) {
  const more = data.waiting > data.waiting_cap;
  const node = el("div", { class: `figure${data.waiting ? " warn" : ""}`, "data-kpi": "waiting", title: L.waiting_help },
    el("div", { class: "num", text: more ? `${data.waiting_cap}+` : `${data.waiting}` }),
    el("div", { class: "label", text: L.waiting }),
    el("div", { class: "sub", text: data.waiting ? L.waiting_some : L.waiting_none }),
    el("div", { class: "sr-only", text: L.waiting_help }));
  return node;
}

// --- charts --------------------------------------------------------------------------------------

function trend(data) {
  const t = data.trend;
  if (!data.figures.filed) return empty("chart-trend");
  const line = (key) => ({ name: L[key], type: "line", yAxisIndex: 1, data: t[key].map(pctNum), connectNulls: true,
    showSymbol: t.days.length <= 31, symbolSize: 5 });  // straight segments: a smoothed rate would overshoot 100%
  return chart("chart-trend", {
    tooltip: { trigger: "axis", formatter: axisTip((p) => (p.seriesType === "line" ? percentText(p.value) : valueText(p.value))) },
    legend: { top: 0, type: "scroll" },
    grid: { left: 8, right: 8, top: 36, bottom: t.days.length > 45 ? 36 : 8, containLabel: true },
    xAxis: { type: "category", data: t.days.map((d) => d.slice(5)) },
    yAxis: [
      { type: "value", minInterval: 1 },
      { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" }, splitLine: { show: false } },
    ],
    dataZoom: t.days.length > 45 ? [{ type: "inside" }, { type: "slider", height: 14, bottom: 6 }] : [],
    series: [
      { name: L.filed, type: "bar", data: t.filed, itemStyle: { color: "#e8a29a" } },
      { name: L.resolved, type: "bar", data: t.resolved, itemStyle: { color: "#c0392b" } },
      line("response_rate"), line("satisfaction_rate"), line("on_time_rate"),
    ],
  });
}

function categories(data) {
  const rows = data.categories.slice(0, 10).reverse();
  if (!rows.length) return empty("chart-categories");
  return chart("chart-categories", {
    tooltip: {
      trigger: "item",
      formatter: (p) => {
        const r = rows[p.dataIndex];
        return tip(r.name, [[L.filed, `${r.filed}`, p.color], [L.satisfaction_rate, pct(r.satisfaction_rate)],
          [L.on_time_rate, pct(r.on_time_rate)]]);
      },
    },
    grid: { left: 8, right: 36, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: rows.map((r) => r.name), axisLabel: { width: 96, overflow: "truncate" } },
    series: [{ type: "bar", data: rows.map((r) => r.filed), label: { show: true, position: "right" }, barMaxWidth: 22 }],
  });
}

function ranking(id, rows, data) {
  const box = document.getElementById(id);
  const shown = rows.filter((r) => r.filed && r.kind !== "none").sort((a, b) => (b.on_time_rate ?? -1) - (a.on_time_rate ?? -1)).slice(0, 15);
  if (!shown.length) return empty(id);
  box.style.height = `${Math.max(220, 34 * shown.length + 70)}px`;
  const order = shown.slice().reverse();
  const c = chart(id, {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: axisTip((p) => percentText(p.value)) },
    legend: { top: 0 },
    grid: { left: 8, right: 40, top: 30, bottom: 8, containLabel: true },
    xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "category", data: order.map((r) => r.name), axisLabel: { width: 96, overflow: "truncate" } },
    series: [
      { name: L.on_time_rate, type: "bar", data: order.map((r) => pctNum(r.on_time_rate)), barMaxWidth: 14 },
      { name: L.satisfaction_rate, type: "bar", data: order.map((r) => pctNum(r.satisfaction_rate)), barMaxWidth: 14 },
    ],
  });
  if (data && order.some((r) => r.id)) {
    c.on("click", (p) => {
      const r = order[p.dataIndex];
      if (r && r.link) window.location.href = r.link;
    });
  }
  return c;
}

function heat(data) {
  if (!data.heat.length || !data.figures.filed) return empty("chart-heat");
  const top = Math.max(1, ...data.heat.map((h) => h.value));
  const low = [253, 236, 234];
  const high = [176, 58, 46];
  const shade = (v, max) => Math.sqrt(v / Math.max(1, max));
  const color = (v, max) => `rgb(${low.map((a, i) => Math.round(a + (high[i] - a) * shade(v, max))).join(",")})`;
  // Dark cells get white text, light ones dark text.
  const ink = (v, max) => ({ color: shade(v, max) > 0.55 ? "#fff" : "#1f2328" });
  const kids = data.heat.flatMap((h) => h.children || []);
  const topKid = Math.max(1, ...kids.map((k) => k.value));
  const items = data.heat.map((h) => ({
    ...h, itemStyle: { color: color(h.value, top), borderColor: color(h.value, top) },
    label: ink(h.value, top), upperLabel: ink(h.value, top),
    children: h.children && h.children.map((k) => ({
      ...k, itemStyle: { color: color(k.value, topKid) }, label: ink(k.value, topKid),
    })),
  }));
  const c = chart("chart-heat", {
    tooltip: { formatter: (p) => tip(p.name, [[L.filed, `${p.value}`, p.color], [L.open, `${p.data.open}`]]) },
    series: [{
      type: "treemap", data: items, roam: false, nodeClick: false, breadcrumb: { show: false },
      top: 4, left: 4, right: 4, bottom: 4,
      label: { show: true, formatter: "{b}\n{c}", fontSize: 12, lineHeight: 16 },
      upperLabel: { show: false },
      // levels[0] is the node itself (no header), [1] the areas below it, [2] theirs.
      levels: [
        { itemStyle: { borderWidth: 0, gapWidth: 3 }, upperLabel: { show: false } },
        { itemStyle: { borderWidth: 3, gapWidth: 1 },
          upperLabel: { show: true, height: 22, formatter: "{b}  {c}", fontWeight: "bold" } },
        { itemStyle: { borderColor: "#fff", borderWidth: 1, gapWidth: 1 } },
      ],
    }],
  });
  c.on("click", (p) => { if (p.data && p.data.id) window.location.href = pageUrl(p.data.id, data); });
  return c;
}

// --- tables --------------------------------------------------------------------------------------

function table(id, head, rows) {
  const t = document.getElementById(id);
  t.replaceChildren(
    el("thead", {}, el("tr", {}, ...head.map(([text, cls]) => el("th", { class: cls || "", text })))),
    el("tbody", {}, ...rows.map((cells) => el("tr", {}, ...cells.map(([content, cls]) => {
      const td = el("td", { class: cls || "" });
      td.append(content);
      return td;
    })))),
  );
}

function rankTable(id, rows, linkOf) {
  const head = [[L.name], [L.filed, "num"], [L.response_rate, "num"], [L.resolution_rate, "num"],
    [L.satisfaction_rate, "num"], [L.on_time_rate, "num"]];
  table(id, head, rows.map((r) => [
    [linkOf(r) ? el("a", { href: linkOf(r), text: r.name }) : r.name], [`${r.filed}`, "num"],
    [pct(r.response_rate), "num"], [pct(r.resolution_rate), "num"], [pct(r.satisfaction_rate), "num"],
    [pct(r.on_time_rate), "num"],
  ]));
}

const late = (hours) => (hours >= 48 ? `${Math.floor(hours / 24)} ${L.days}` : `${hours} ${L.hours}`);

function overdue(data) {
  const o = data.overdue;
  const badge = document.getElementById("overdue-badge");
  badge.textContent = `${o.count}`;
  badge.hidden = !o.count;
  document.getElementById("overdue-note").textContent = o.count
    ? `${fmt(L.count_overdue, { count: o.count })} ${o.items.length < o.count ? fmt(L.more_overdue, { shown: o.items.length, count: o.count }) : ""}`
    : L.no_overdue;
  if (!o.items.length) {
    document.getElementById("overdue-table").replaceChildren();
    return;
  }
  table("overdue-table",
    [[L.number], [L.title], [L.category], [L.place], [L.handler], [L.status], [L.due], [L.overdue_by, "num"]],
    o.items.map((a) => [
      [a.url ? el("a", { href: a.url, text: a.number }) : a.number, "nowrap"], [a.title], [a.category], [a.place],
      [a.handler], [a.status, "nowrap"], [a.resolve_due, "nowrap"], [late(a.hours_over), "num bad nowrap"],
    ]));
}

// --- the page ------------------------------------------------------------------------------------

function draw(data) {
  const status = document.getElementById("dash-status");
  status.textContent = fmt(L.generated, { time: data.generated_at.replace("T", " ").slice(0, 16) });
  kpis(data);
  trend(data);
  categories(data);
  heat(data);
  for (const r of data.children) r.link = pageUrl(r.id, data);
  if (data.children.length) {
    ranking("chart-children", data.children, data);
    rankTable("children-table", data.children, (r) => r.link);
  } else {
    document.getElementById("children-card").hidden = true;
  }
  ranking("chart-handlers", data.handlers, null);
  // Those waiting for dispatch have no handler to rank: last in the table, not in the chart.
  const handlers = data.handlers.filter((r) => r.filed);
  rankTable("handlers-table", [...handlers.filter((r) => r.kind !== "none"), ...handlers.filter((r) => r.kind === "none")],
    () => null);
  overdue(data);
}

async function main() {
  try {
    const response = await fetch(root.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    draw(await response.json());
  } catch (exc) {
    const status = document.getElementById("dash-status");
    status.textContent = L.failed;
    status.className = "form-errors";
    console.warn("dashboard:", exc);
  } finally {
    root.setAttribute("aria-busy", "false");
    root.dataset.ready = "1";
  }
}

// Charts follow their boxes: a phone turned sideways, the side menu opened or closed.
const resize = () => charts.forEach((c) => c.resize());
if ("ResizeObserver" in window) new ResizeObserver(resize).observe(root);
else window.addEventListener("resize", resize);

// Picking dates means a custom period.
const form = document.querySelector("[data-testid=dashboard-filters]");
if (form) {
  for (const input of form.querySelectorAll("input[type=date]")) {
    input.addEventListener("change", () => { form.elements.period.value = "custom"; });
  }
}

main();
