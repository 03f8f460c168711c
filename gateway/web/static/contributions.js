// The board's charts: each <canvas data-chart='{"kind","label","labels","values"}'> is drawn
// with Chart.js (vendored). The tables beside them hold the same figures, so without
// JavaScript nothing is lost.
(function () {
  "use strict";
  function draw() {
    if (typeof window.Chart === "undefined") { return; }
    var canvases = document.querySelectorAll("canvas[data-chart]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var spec = JSON.parse(canvas.getAttribute("data-chart"));
      new window.Chart(canvas, {
        type: spec.kind,
        data: {
          labels: spec.labels,
          datasets: [{ label: spec.label, data: spec.values, backgroundColor: "#0b5394", borderColor: "#0b5394" }]
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true } }
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
