/* Dashboard charts (Apache ECharts, vendored). The data comes from the page's json_script
   element; every chart has the same figures as a table next to it, so nothing depends on JS. */
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var charts = [];
  // Tooltips drawn inside the chart: ECharts' HTML tooltips carry inline style attributes, which
  // the Content-Security-Policy (style-src 'self') refuses.
  var TOOLTIP_MODE = "richText";
  // Django's JavaScript catalog (/jsi18n/, loaded before this file).
  var gettext = window.gettext || function (text) { return text; };
  function chart(id, option) {
    var element = document.getElementById(id);
    if (!element) { return; }
    var instance = echarts.init(element, null, { renderer: "svg" });
    instance.setOption(option);
    charts.push(instance);
  }
  var percent = function (value) { return Number(value).toFixed(2) + "%"; };
  chart("chart-trend", {
    tooltip: { trigger: "axis", renderMode: TOOLTIP_MODE, valueFormatter: percent },
    legend: { top: 0 },
    grid: { left: 48, right: 16, top: 40, bottom: 28 },
    xAxis: { type: "category", data: data.trend.years },
    yAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
    series: data.trend.series.map(function (s) { return { name: s.name, type: "line", data: s.data }; })
  });
  chart("chart-causes", {
    tooltip: { trigger: "item", renderMode: TOOLTIP_MODE, formatter: gettext("{b}：{c}人（{d}%）") },
    series: [{ type: "pie", radius: ["35%", "65%"], data: data.causes }]
  });
  chart("chart-status", {
    tooltip: { trigger: "axis", renderMode: TOOLTIP_MODE },
    legend: { top: 0 },
    grid: { left: 56, right: 16, top: 40, bottom: 28 },
    xAxis: { type: "category", data: data.status.labels },
    yAxis: { type: "value" },
    series: [
      { name: data.labels.households, type: "bar", data: data.status.households },
      { name: data.labels.persons, type: "bar", data: data.status.persons }
    ]
  });
  if (data.children.names.length) {
    chart("chart-children", {
      tooltip: { trigger: "axis", renderMode: TOOLTIP_MODE, valueFormatter: percent },
      // containLabel: the grid leaves room for the names, however long ("黔东南苗族侗族自治州"
      // was cut off); they turn only when many share the axis.
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: {
        type: "category",
        data: data.children.names,
        axisLabel: { interval: 0, rotate: data.children.names.length > 4 ? 40 : 0 }
      },
      yAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
      series: [{ name: data.labels.incidence, type: "bar", data: data.children.incidence }]
    });
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
