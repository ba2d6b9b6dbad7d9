/* Hotspot trend lines: the options come from the page (json_script #hotspot-charts, built in Python);
   each [data-chart] element gets its chart. No inline script (CSP). */
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("hotspot-charts");
    if (!source || !window.echarts) return;
    var options = JSON.parse(source.textContent);
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var option = options[el.getAttribute("data-chart")];
      if (!option) return;
      var chart = window.echarts.init(el, null, { renderer: "svg", height: 160 });
      chart.setOption(option);
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
