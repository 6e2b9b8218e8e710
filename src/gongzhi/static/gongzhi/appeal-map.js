/* The appeal page's small map: the appeal's point among the named grids of its community, drawn with
   Leaflet from points alone (no tile server is reachable). Drawn again when htmx swaps the page body. */
(function () {
  "use strict";

  function draw(el) {
    if (el._map || !window.L) return;
    var lat = parseFloat(el.getAttribute("data-lat"));
    var lng = parseFloat(el.getAttribute("data-lng"));
    if (isNaN(lat) || isNaN(lng)) return;
    var points = [];
    var data = document.getElementById(el.getAttribute("data-points"));
    try { points = data ? JSON.parse(data.textContent) : []; } catch (e) { points = []; }
    el.hidden = false;
    var map = window.L.map(el, {
      attributionControl: false, zoomSnap: 0.5, scrollWheelZoom: false, dragging: !window.L.Browser.mobile
    });
    var bounds = [[lat, lng]];
    points.forEach(function (p) {
      window.L.circleMarker([p.lat, p.lng], {
        radius: p.kind === "grid" ? 9 : 6, color: "#0b5cad", weight: 2, fillColor: "#ffffff", fillOpacity: 0.9
      }).bindTooltip(p.name, { permanent: true, direction: "top", offset: [0, -8], className: p.kind === "grid" ? "map-place map-grid" : "map-place" })
        .addTo(map);
      bounds.push([p.lat, p.lng]);
    });
    window.L.circleMarker([lat, lng], {
      radius: 11, color: "#962d22", weight: 3, fillColor: "#c0392b", fillOpacity: 0.95, className: "appeal-point"
    }).bindTooltip(el.getAttribute("data-label") || "", { permanent: true, direction: "bottom", offset: [0, 10], className: "map-here" })
      .addTo(map);
    if (bounds.length > 1) map.fitBounds(bounds, { padding: [36, 36], maxZoom: 17 });
    else map.setView([lat, lng], 16);
    el._map = map;
  }

  function init(root) {
    (root || document).querySelectorAll("[data-appeal-map]").forEach(draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(); });
  else init();
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
