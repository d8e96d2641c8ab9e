// The analysis dashboard: charts (ECharts, vendored) and lazy drill-downs. The page's tables
// and exports work without it; this only draws what a table cannot show.
"use strict";

(function () {
  const root = document.getElementById("dashboard");
  if (!root || typeof echarts === "undefined") return;
  const base = root.dataset.base;
  const filter = root.dataset.filter;
  const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
  const theme = dark ? "dark" : null;
  const red = "#d64545";
  const blue = "#3b7dd8";

  // GET one of the session's read-only analysis views, with the page's filter.
  const data = sessionData(root);

  function chart(id) {
    const el = document.getElementById(id);
    el.textContent = "";
    const instance = echarts.init(el, theme, { renderer: "canvas", locale: window.chartLocale });
    window.addEventListener("resize", () => instance.resize());
    return instance;
  }

  function failed(id, error) {
    const el = document.getElementById(id);
    el.textContent = tr("js-chart-failed", { error: error.message });
    el.classList.add("error-text");
  }

  function empty(instance, text) {
    instance.setOption({ title: { text, left: "center", top: "middle", textStyle: { fontSize: 14, fontWeight: "normal" } } });
  }

  async function timeline() {
    const { captures } = await data("timeline");
    const instance = chart("chart-timeline");
    if (!captures.length) return empty(instance, tr("js-no-capture"));
    const channels = [...new Set(captures.map((c) => c.broadcaster_login))];
    const series = [];
    for (const channel of channels) {
      const mine = captures.filter((c) => c.broadcaster_login === channel && c.finished_at);
      series.push({ name: tr("js-series-chatters", { channel }), type: "line", showSymbol: true,
        data: mine.map((c) => [c.finished_at, c.chatters_count]) });
      series.push({ name: tr("js-series-viewers", { channel }), type: "line", showSymbol: true, lineStyle: { type: "dashed" },
        data: mine.filter((c) => c.viewer_count != null).map((c) => [c.finished_at, c.viewer_count]) });
    }
    instance.setOption({
      backgroundColor: "transparent",
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "time" },
      yAxis: { type: "value", name: tr("js-axis-accounts") },
      series,
    });
  }

  let creationChart = null;
  async function creation(bucket) {
    const { buckets } = await data("histogram", { bucket });
    if (!creationChart) {
      creationChart = chart("chart-creation");
      creationChart.on("click", (event) => {
        const b = event.data && event.data.bucket;
        if (b && b.granularity === "day") {
          window.location.href = `${base}/days/${b.start}${filter ? "?" + filter : ""}`;
        }
      });
    }
    creationChart.clear();
    if (!buckets.length) return empty(creationChart, tr("js-no-creation-date"));
    const labels = buckets.map((b) => b.start);
    creationChart.setOption({
      backgroundColor: "transparent",
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, data: [tr("js-series-accounts"), tr("js-series-expected")] },
      grid: { left: 50, right: 20, top: 40, bottom: 70 },
      xAxis: { type: "category", data: labels },
      yAxis: { type: "value" },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 10 }],
      series: [
        { name: tr("js-series-accounts"), type: "bar", barMaxWidth: 24, cursor: "pointer",
          data: buckets.map((b) => ({ value: b.count, bucket: { ...b, granularity: bucket },
            itemStyle: { color: b.burst ? red : blue } })) },
        { name: tr("js-series-expected"), type: "line", showSymbol: false, smooth: true,
          lineStyle: { color: "#888" }, itemStyle: { color: "#888" },
          data: buckets.map((b) => Math.round(b.baseline * 10) / 10) },
      ],
    });
  }

  async function scores() {
    const { buckets, flag_threshold } = await data("scores");
    const instance = chart("chart-scores");
    instance.setOption({
      backgroundColor: "transparent",
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 50, right: 20, top: 20, bottom: 30 },
      xAxis: { type: "category", data: buckets.map((b) => `${b.from}–${b.to}`) },
      yAxis: { type: "value", name: tr("js-axis-accounts") },
      series: [{ name: tr("js-series-accounts"), type: "bar", data: buckets.map((b) => ({ value: b.count,
        itemStyle: { color: b.to >= flag_threshold ? red : blue } })) }],
    });
  }

  function toggleButtons() {
    const buttons = document.querySelectorAll(".toggle [data-bucket]");
    for (const button of buttons) {
      button.addEventListener("click", () => {
        for (const b of buttons) b.setAttribute("aria-pressed", String(b === button));
        creation(button.dataset.bucket).catch((e) => failed("chart-creation", e));
      });
    }
  }

  // "Show accounts" under a top day: loaded on first click, then toggled.
  function drillDowns() {
    for (const button of document.querySelectorAll("button.drill")) {
      button.addEventListener("click", async () => {
        const row = button.closest("tr");
        const next = row.nextElementSibling;
        if (next && next.classList.contains("drill-row")) {
          next.hidden = !next.hidden;
          button.setAttribute("aria-expanded", String(!next.hidden));
          return;
        }
        button.disabled = true;
        const detail = document.createElement("tr");
        detail.className = "drill-row";
        const td = document.createElement("td");
        td.colSpan = row.children.length;
        detail.appendChild(td);
        row.after(detail);
        try {
          const day = button.dataset.day;
          const page = await data(`days/${day}/accounts`, { per_page: 50 });
          const list = document.createElement("ul");
          list.className = "drill-list";
          for (const a of page.accounts) list.appendChild(accountItem(a, base));
          td.appendChild(list);
          if (page.total > page.accounts.length) {
            const more = document.createElement("a");
            more.href = `${base}/days/${day}${filter ? "?" + filter : ""}`;
            more.textContent = tr("js-all-accounts-of-day", { count: page.total, day });
            td.appendChild(more);
          }
          button.setAttribute("aria-expanded", "true");
        } catch (e) {
          td.textContent = tr("js-accounts-failed", { error: e.message });
          td.classList.add("error-text");
        } finally {
          button.disabled = false;
        }
      });
    }
  }

  timeline().catch((e) => failed("chart-timeline", e));
  creation("day").catch((e) => failed("chart-creation", e));
  scores().catch((e) => failed("chart-scores", e));
  toggleButtons();
  drillDowns();
})();
