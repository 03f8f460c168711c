/* The rider's and the driver's map (progressive enhancement; the forms work without it).
   Leaflet draws the service area and the chosen points; tiles only when the city names them.
   A click fills the form's coordinate fields: for the rider, the pickup, then the drop-off,
   then the pickup again...; for the driver, their position. Nothing is sent until the form is. */
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }
  function field(name) { return document.getElementById(name); }
  function read(end) {
    var lat = parseFloat((field(end + "_lat") || {}).value), lon = parseFloat((field(end + "_lon") || {}).value);
    return isFinite(lat) && isFinite(lon) ? [lat, lon] : null;
  }
  ready(function () {
    var wrap = document.querySelector("[data-map]");
    if (!wrap || !window.L) return;
    wrap.hidden = false;
    var box = wrap.querySelector(".map"), said = wrap.querySelector(".map-said");
    var area = JSON.parse(wrap.dataset.area || "[]"), centre = JSON.parse(wrap.dataset.centre || "null");
    var ends = (wrap.dataset.fields || "").split(",").filter(Boolean);
    var map = L.map(box, { attributionControl: !!wrap.dataset.tiles, zoomSnap: 0.25 });
    if (wrap.dataset.tiles) {
      L.tileLayer(wrap.dataset.tiles, { attribution: wrap.dataset.attribution, maxZoom: 19 }).addTo(map);
    }
    if (area.length) {
      var shape = L.polygon(area, { color: "#0b5394", weight: 2, fillOpacity: 0.08 }).addTo(map);
      map.fitBounds(shape.getBounds());
    } else if (centre) {
      map.setView(centre, 12);
    }
    var markers = {}, next = 0;
    function show(end) {
      var at = read(end);
      if (markers[end]) { map.removeLayer(markers[end]); delete markers[end]; }
      if (at) {
        markers[end] = L.circleMarker(at, { radius: 9, color: end === "dropoff" ? "#8a2be2" : "#0b5394", weight: 3, fillOpacity: 0.6 })
          .bindTooltip(wrap.dataset["label" + end.charAt(0).toUpperCase() + end.slice(1)] || end, { permanent: true, direction: "top" })
          .addTo(map);
      }
    }
    ends.forEach(function (end) {
      show(end);
      ["_lat", "_lon"].forEach(function (s) {
        var input = field(end + s);
        if (input) input.addEventListener("change", function () { show(end); });
      });
    });
    // The ride page: the pickup, the drop-off and the driver on the way, from the live region's
    // latest fragment (its [data-points]), drawn again after every server-sent update.
    if (wrap.dataset.pointsFrom) {
      var drawn = [];
      var colours = { pickup: "#0b5394", dropoff: "#8a2be2", driver: "#b35c00" };
      var draw = function () {
        var source = document.querySelector(wrap.dataset.pointsFrom);
        if (!source) return;
        var points = JSON.parse(source.dataset.points || "{}");
        drawn.forEach(function (m) { map.removeLayer(m); });
        drawn = [];
        Object.keys(colours).forEach(function (name) {
          if (!points[name]) return;
          var label = wrap.dataset["label" + name.charAt(0).toUpperCase() + name.slice(1)] || name;
          drawn.push(L.circleMarker(points[name], { radius: 9, color: colours[name], weight: 3, fillOpacity: 0.6 })
            .bindTooltip(label, { permanent: true, direction: "top" }).addTo(map));
        });
      };
      draw();
      document.body.addEventListener("htmx:afterSettle", draw);
    }
    if (!ends.length) return;
    map.on("click", function (e) {
      var end = ends[next % ends.length];
      next += 1;
      var lat = e.latlng.lat.toFixed(5), lon = e.latlng.lng.toFixed(5);
      field(end + "_lat").value = lat;
      field(end + "_lon").value = lon;
      var address = field(end + "_address");
      if (address) address.value = "";
      show(end);
      var label = wrap.dataset["label" + end.charAt(0).toUpperCase() + end.slice(1)] || end;
      said.textContent = (wrap.dataset.saidSet || "{point}: {lat}, {lon}")
        .replace("{point}", label).replace("{lat}", lat).replace("{lon}", lon);
    });
  });
})();
