// Cohorts (the dashboard's section and a cohort's page): each cohort's small chart — when its
// members were created, and how many of them each capture saw — and its members on demand.
// The evidence, sizes and member pages work without it.
"use strict";

(function () {
  const root = document.getElementById("cohorts");
  if (!root) return;
  const base = root.dataset.base;
  const filter = root.dataset.filter;
  const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
  const red = "#d64545";
  const blue = "#3b7dd8";

  const data = sessionData(root);

  // A bin's or a capture's time as its axis label (UTC, as the evidence sentences).
  function label(iso, bin) {
    const t = iso.replace("T", " ");
    if (bin === "day") return t.slice(0, 10);
    if (bin === "hour") return `${t.slice(5, 13)}:00`;
    return t.slice(11, 16);
  }

  // Left: members created per bin; right: members present in each capture, one line per
  // channel. Category axes: a farm made in minutes and two captures a minute apart both stay
  // readable.
  function draw(el, detail) {
    el.textContent = "";
    const instance = echarts.init(el, dark ? "dark" : null, { renderer: "canvas", locale: window.chartLocale });
    window.addEventListener("resize", () => instance.resize());
    const captures = detail.presence.filter((c) => c.finished_at);
    const channels = [...new Set(captures.map((c) => c.broadcaster_login))];
    const series = [{
      name: tr(`js-created-per-${detail.bin}`), type: "bar", xAxisIndex: 0, yAxisIndex: 0,
      barMaxWidth: 16, itemStyle: { color: detail.cohort.kind === "bot" ? red : blue },
      data: detail.created.map((b) => b.count),
    }];
    for (const channel of channels) {
      series.push({ name: tr("js-present-in", { channel }), type: "line", xAxisIndex: 1, yAxisIndex: 1,
        showSymbol: true, connectNulls: true,
        data: captures.map((c) => (c.broadcaster_login === channel ? c.present : null)) });
    }
    instance.setOption({
      animation: false,
      backgroundColor: "transparent",
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0, textStyle: { fontSize: 11 } },
      grid: [
        { left: 40, width: "40%", top: 34, bottom: 42 },
        { right: 16, width: "42%", top: 34, bottom: 42 },
      ],
      xAxis: [
        { type: "category", gridIndex: 0, name: tr("js-axis-created"), nameLocation: "middle", nameGap: 22,
          data: detail.created.map((b) => label(b.start, detail.bin)) },
        { type: "category", gridIndex: 1, name: tr("js-axis-captures"), nameLocation: "middle", nameGap: 22,
          data: captures.map((c) => `#${c.capture_id} ${label(c.finished_at, "minute")}`) },
      ],
      yAxis: [
        { type: "value", gridIndex: 0, minInterval: 1 },
        { type: "value", gridIndex: 1, minInterval: 1, min: 0, max: detail.cohort.size || null },
      ],
      series,
    });
  }

  function charts() {
    for (const el of document.querySelectorAll("[data-cohort-chart]")) {
      data(`cohorts/${el.dataset.cohortChart}`)
        .then((detail) => draw(el, detail))
        .catch((e) => {
          el.textContent = tr("js-chart-failed", { error: e.message });
          el.classList.add("error-text");
        });
    }
  }

  // "Show members": the first 50, loaded on first click, then toggled.
  function members() {
    for (const button of document.querySelectorAll("button.cohort-members")) {
      button.addEventListener("click", async () => {
        const next = button.nextElementSibling;
        if (next && next.classList.contains("cohort-list")) {
          next.hidden = !next.hidden;
          button.setAttribute("aria-expanded", String(!next.hidden));
          return;
        }
        button.disabled = true;
        const box = document.createElement("div");
        box.className = "cohort-list";
        button.after(box);
        try {
          const id = button.dataset.cohort;
          const page = await data(`cohorts/${id}/accounts`, { per_page: 50 });
          const list = document.createElement("ul");
          list.className = "drill-list";
          for (const a of page.accounts) list.appendChild(accountItem(a, base));
          box.appendChild(list);
          const all = document.createElement("a");
          all.href = `${base}/cohorts/${id}${filter ? "?" + filter : ""}`;
          all.textContent = page.total > page.accounts.length
            ? tr("js-all-members", { count: page.total }) : tr("js-cohort-page");
          box.appendChild(all);
          button.setAttribute("aria-expanded", "true");
        } catch (e) {
          box.textContent = tr("js-members-failed", { error: e.message });
          box.classList.add("error-text");
        } finally {
          button.disabled = false;
        }
      });
    }
  }

  if (typeof echarts !== "undefined") charts();
  members();
})();
