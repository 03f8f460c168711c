/* The desk's maps (Leaflet, vendored): drawn from the rows of the tables they name, so the
   table stays the page and the map is a picture of it. No tiles unless the city names them
   (data-tiles): then the points and lines stand on a plain background. */
(function () {
  "use strict";
  if (!window.L) { return; }

  function point(text) {
    if (!text) { return null; }
    var parts = text.split(",").map(Number);
    return parts.length === 2 && isFinite(parts[0]) && isFinite(parts[1]) ? parts : null;
  }

  var STYLES = {
    pickup: { color: "#0b5394", fillColor: "#0b5394" },
    dropoff: { color: "#7a3e00", fillColor: "#ffffff" },
    driver: { color: "#1d6b2f", fillColor: "#1d6b2f" },
    stop: { color: "#0b5394", fillColor: "#ffffff" }
  };

  function draw(box) {
    var rows = [];
    (box.getAttribute("data-from") || "").split(",").forEach(function (selector) {
      selector = selector.trim();
      if (!selector) { return; }
      document.querySelectorAll(selector + " tbody tr").forEach(function (row) { rows.push(row); });
    });
    var layers = [];
    rows.forEach(function (row) {
      var label = row.getAttribute("data-label") || "";
      ["pickup", "dropoff", "driver", "stop"].forEach(function (kind) {
        var at = point(row.getAttribute("data-" + kind));
        if (!at) { return; }
        var style = STYLES[kind];
        layers.push(L.circleMarker(at, {
          radius: kind === "driver" ? 8 : 6, weight: 3, color: style.color,
          fillColor: style.fillColor, fillOpacity: 0.9
        }).bindTooltip(label));
      });
    });
    var path = box.getAttribute("data-path");
    if (path) {
      try {
        var line = JSON.parse(path);
        if (line.length > 1) {
          layers.push(L.geoJSON({ type: "LineString", coordinates: line },
            { style: { color: "#0b5394", weight: 4, opacity: 0.8 } }));
        }
      } catch (e) { /* no line: the table still lists the stops */ }
    }
    if (!layers.length) { return; }
    box.hidden = false;
    var legend = box.parentNode.querySelector("[data-map-legend]");
    if (legend) { legend.hidden = false; }
    var map = L.map(box, { scrollWheelZoom: false });
    var tiles = box.getAttribute("data-tiles");
    if (tiles) {
      L.tileLayer(tiles, { attribution: box.getAttribute("data-attribution") || "" }).addTo(map);
    }
    var group = L.featureGroup(layers).addTo(map);
    map.fitBounds(group.getBounds().pad(0.2), { maxZoom: 15 });
  }

  document.querySelectorAll("[data-map]").forEach(draw);

  /* The desk's lists reload themselves (data-refresh seconds) while the tab is visible and
     the keyboard is not inside them, so a dispatcher's focus is never pulled away. The map
     is drawn again from the new rows. */
  document.querySelectorAll("[data-refresh]").forEach(function (box) {
    var seconds = Number(box.getAttribute("data-refresh")) || 20;
    var note = document.querySelector("[data-refreshed]");
    if (note) { note.hidden = false; }
    window.setInterval(function () {
      if (document.hidden || box.contains(document.activeElement)) { return; }
      fetch(window.location.href, { credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (answer) { return answer.ok ? answer.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(box.id);
          if (!fresh) { return; }
          box.replaceChildren.apply(box, Array.prototype.slice.call(fresh.childNodes));
          box.querySelectorAll("[data-map]").forEach(draw);
        })
        .catch(function () { /* the next tick tries again */ });
    }, seconds * 1000);
  });
})();
