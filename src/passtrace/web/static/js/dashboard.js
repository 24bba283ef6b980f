// The command dashboard: interactive charts (ECharts, vendored) and auto-refresh.
// The page is complete without this script (numbers and a server-drawn chart); this
// draws the charts with tooltips and zoom and re-reads /api/v1/dashboard every
// data-refresh seconds, updating every number and list in place.
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root) { return; }
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var t = root.dataset;
  var charts = {};
  var COLORS = ["#0b5cad", "#0a7d32", "#b86e00", "#6a3fb3", "#00838f", "#5f6b76"];
  // Youngest first. The page's embedded copy of the figures has its keys sorted (Jinja's
  // tojson), so the order is spelled out here rather than read from the object.
  var AGES = ["lt1h", "h1to24", "d1to3", "gt3d"];

  function get(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, obj);
  }

  function percent(v) { return v == null ? "–" : Math.round(v * 100) + "%"; }

  function link(text, href) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = String(text);
    return a;
  }

  function cell(row, content, label) {
    var td = document.createElement("td");
    if (label) { td.dataset.label = label; }
    if (typeof content === "object") { td.appendChild(content); } else { td.textContent = String(content); }
    row.appendChild(td);
  }

  function sum(xs) { return xs.reduce(function (a, b) { return a + b; }, 0); }

  // One row builder per list: what the server rendered, rebuilt from fresh figures.
  var LISTS = {
    "registrations.by_kind": function (k, tr) { cell(tr, k.label); cell(tr, link(sum(k.counts), k.href)); },
    "registrations.denials_by_reason": function (r, tr) { cell(tr, r.label); cell(tr, link(r.count, r.href)); },
    "alerts.by_rule": function (a, tr) {
      cell(tr, a.label); cell(tr, link(a.total, a.href));
      AGES.forEach(function (k) { cell(tr, a.ages[k] || 0); });
    },
    "sites": function (s, tr) {
      cell(tr, link(s.name, s.href)); cell(tr, s.kind_label);
      cell(tr, link(s.total, s.href)); cell(tr, link(s.denied, s.href)); cell(tr, link(s.fevers, s.href));
    }
  };
  var ITEMS = ["cases.by_classification", "risks", "status"];

  function renderLists() {
    Object.keys(LISTS).forEach(function (path) {
      var body = root.querySelector('[data-list="' + path + '"]');
      var rows = get(data, path) || [];
      if (!body || !rows.length) { return; }  // keep the server's "nothing here" row
      body.textContent = "";
      rows.forEach(function (item) {
        var tr = document.createElement("tr");
        LISTS[path](item, tr);
        body.appendChild(tr);
      });
    });
    ITEMS.forEach(function (path) {
      var list = root.querySelector('[data-list="' + path + '"]');
      var rows = get(data, path) || [];
      if (!list || !rows.length) { return; }
      list.textContent = "";
      rows.forEach(function (c) {
        var li = document.createElement("li");
        li.appendChild(document.createTextNode(c.label + " "));
        li.appendChild(link(c.count, c.href));
        list.appendChild(li);
      });
    });
  }

  function renderNumbers() {
    root.querySelectorAll("[data-figure]").forEach(function (el) {
      var value = get(data, el.dataset.figure);
      if (value && typeof value === "object" && "count" in value) {
        el.textContent = String(value.count);
        if (value.href) { el.setAttribute("href", value.href); }
      } else if (el.dataset.format === "percent") {
        el.textContent = percent(value);
      } else if (value != null) {
        el.textContent = String(value);
      }
    });
  }

  function chart(id) {
    var el = document.getElementById(id);
    if (!el || typeof echarts === "undefined") { return null; }
    if (!charts[id]) {
      el.textContent = "";  // the server-drawn fallback gives way to the live chart
      charts[id] = echarts.init(el, null, { locale: t.locale === "zh_CN" ? "ZH" : "EN", renderer: "canvas" });
    }
    return charts[id];
  }

  var ZOOM = [{ type: "inside", start: 0, end: 100 }, { type: "slider", start: 0, end: 100, height: 18, bottom: 4 }];

  function drawCharts() {
    var hours = data.hour_labels;
    var reg = chart("chart-registrations");
    if (reg) {
      reg.setOption({
        color: COLORS,
        tooltip: { trigger: "axis", className: "dash-tooltip" },
        legend: { top: 0, type: "scroll" },
        grid: { left: 48, right: 16, top: 36, bottom: 56 },
        xAxis: { type: "category", data: hours, boundaryGap: false },
        yAxis: { type: "value", minInterval: 1 },
        dataZoom: ZOOM,
        series: data.registrations.by_kind.map(function (k) {
          return { name: k.label, type: "line", stack: "all", areaStyle: { opacity: 0.25 }, symbolSize: 5, data: k.counts };
        })
      }, { replaceMerge: ["series"] });
    }
    var den = chart("chart-denials");
    if (den) {
      den.setOption({
        color: ["#b3261e", "#b86e00"],
        tooltip: { trigger: "axis", className: "dash-tooltip" },
        legend: { top: 0 },
        grid: { left: 48, right: 16, top: 36, bottom: 56 },
        xAxis: { type: "category", data: hours, boundaryGap: false },
        yAxis: { type: "value", minInterval: 1 },
        dataZoom: ZOOM,
        series: [
          { name: t.tDenied, type: "line", symbolSize: 5, data: data.registrations.denied_per_hour },
          { name: t.tFevers, type: "line", symbolSize: 5, data: data.registrations.fevers_per_hour }
        ]
      });
    }
    var box = document.getElementById("chart-alerts");
    if (box) { box.hidden = !data.alerts.by_rule.length; }  // nothing open: the table says so
    var al = box && !box.hidden ? chart("chart-alerts") : null;
    if (al) {
      al.resize();
      var ages = AGES;
      var rules = data.alerts.by_rule.slice().reverse();
      al.setOption({
        color: ["#9ccc65", "#ffb300", "#f4511e", "#b3261e"],
        tooltip: { trigger: "axis", className: "dash-tooltip", axisPointer: { type: "shadow" } },
        legend: { top: 0 },
        grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: rules.map(function (r) { return r.label; }) },
        series: ages.map(function (k) {
          return { name: data.alerts.age_labels[k], type: "bar", stack: "age",
                   data: rules.map(function (r) { return r.ages[k] || 0; }) };
        })
      }, { replaceMerge: ["series"] });
    }
  }

  // When the figures are as of, in the deployment's time (Beijing time, as the server
  // renders it), not the browser's zone: a screen set to another zone must not show
  // another hour.
  function localTime(iso) {
    var when = iso ? new Date(iso) : new Date();
    return when.toLocaleTimeString("en-GB", { timeZone: t.tz || "Asia/Shanghai", hour12: false });
  }

  function stamp(ok) {
    var el = document.getElementById("dash-updated");
    if (!el) { return; }
    el.textContent = ok ? t.tUpdated + " " + localTime(data.generated_at) : t.tFailed;
    el.classList.toggle("bad", !ok);
  }

  var busy = false;
  function refresh() {
    if (busy) { return; }
    busy = true;
    fetch(t.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (fresh) {
        data = fresh;
        renderNumbers(); renderLists(); drawCharts(); stamp(true);
        root.dataset.refreshed = String((Number(root.dataset.refreshed) || 0) + 1);
      })
      .catch(function () { stamp(false); })
      .then(function () { busy = false; });
  }

  function start() {
    drawCharts();
    window.addEventListener("resize", function () {
      Object.keys(charts).forEach(function (k) { charts[k].resize(); });
    });
    var button = document.getElementById("dash-refresh");
    if (button) { button.addEventListener("click", refresh); }
    var every = Math.max(5, Number(t.refresh) || 60) * 1000;
    window.setInterval(function () { if (!document.hidden) { refresh(); } }, every);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
