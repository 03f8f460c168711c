/* The board's chart (Chart.js, vendored), drawn from the table of figures beside it: the table
   is the page (screen readers, no JavaScript), the chart a picture of it. Series names are the
   table's own column headings, so the chart speaks the page's language. */
(function () {
  "use strict";
  if (!window.Chart) { return; }
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var table = document.querySelector(canvas.getAttribute("data-chart"));
    if (!table) { return; }
    var names = {};
    table.querySelectorAll("thead th[data-series]").forEach(function (th) {
      names[th.getAttribute("data-series")] = th.textContent.trim();
    });
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    var column = function (name) {
      return rows.map(function (row) { return Number(row.getAttribute("data-" + name)); });
    };
    var box = canvas.closest("[data-chart-box]");
    if (box) { box.hidden = false; }
    new Chart(canvas, {
      data: {
        labels: rows.map(function (row) { return row.getAttribute("data-day"); }),
        datasets: [
          { type: "bar", label: names.rides, data: column("rides"), yAxisID: "count",
            backgroundColor: "#0b5394" },
          { type: "line", label: names.fares, data: column("fares"), yAxisID: "money",
            borderColor: "#7a3e00", backgroundColor: "#7a3e00", tension: 0.2 },
          { type: "line", label: names.earnings, data: column("earnings"), yAxisID: "money",
            borderColor: "#1d6b2f", backgroundColor: "#1d6b2f", borderDash: [6, 4], tension: 0.2 }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          count: { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 } },
          money: { type: "linear", position: "right", beginAtZero: true,
                   grid: { drawOnChartArea: false } }
        }
      }
    });
  });
})();
