/* The resident's appeal pages: the large-text toggle, the place picker (household / map / address) and
   the grid map drawn from GeoJSON points with Leaflet and no tile layer (no tile server is reachable). */
(function () {
  "use strict";
  var KEY = "gz-large-font";
  var root = document.documentElement;

  function syncToggles() {
    var on = root.classList.contains("large-font");
    document.querySelectorAll("[data-large-font-toggle]").forEach(function (b) {
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-large-font-toggle]");
    if (!button) return;
    var on = root.classList.toggle("large-font");
    try { localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* private mode: this page only */ }
    syncToggles();
    window.dispatchEvent(new Event("resize"));  // the map measures itself again
  });

  // Enter in a one-line field must not file the appeal half-written: it searches in the lookup box
  // and does nothing elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.closest("form[data-enter-guard]")) return;
    if (["submit", "button", "radio", "checkbox", "file"].indexOf(input.type) >= 0) return;
    event.preventDefault();
    if (input.hasAttribute("data-lookup") && window.htmx) window.htmx.trigger(input, "search");
  });

  function markerStyle(chosen) {
    return chosen
      ? { radius: 16, color: "#962d22", weight: 3, fillColor: "#c0392b", fillOpacity: 0.9 }
      : { radius: 14, color: "#0b5cad", weight: 2, fillColor: "#ffffff", fillOpacity: 0.9 };
  }

  function initMap(box) {
    var el = box.querySelector("[data-points]");
    if (!el || !window.L) return;
    if (el._map) { el._map.invalidateSize(); return; }
    if (el._loading) return;
    el._loading = true;
    var select = box.querySelector("select[name=node]");
    fetch(el.getAttribute("data-points"), { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) { return r.ok ? r.json() : { features: [] }; })
      .then(function (geo) {
        if (!geo.features || !geo.features.length) return;  // no coordinates: the list alone
        el.hidden = false;
        var map = window.L.map(el, { attributionControl: false, zoomSnap: 0.5 });
        var markers = {};
        var layer = window.L.geoJSON(geo, {
          pointToLayer: function (feature, latlng) {
            var id = feature.properties.id;
            return window.L.circleMarker(latlng, Object.assign({ className: "grid-point grid-point-" + id }, markerStyle(false)))
              // A text node: Leaflet puts a string in as HTML, and grid names are typed by users.
              .bindTooltip(document.createTextNode(feature.properties.name), { permanent: true, direction: "top", offset: [0, -12] });
          },
          onEachFeature: function (feature, marker) {
            markers[feature.properties.id] = marker;
            marker.on("click", function () {
              select.value = String(feature.properties.id);
              select.dispatchEvent(new Event("change", { bubbles: true }));
            });
          }
        }).addTo(map);
        map.fitBounds(layer.getBounds(), { padding: [56, 56], maxZoom: 17 });
        function highlight() {
          Object.keys(markers).forEach(function (id) {
            var chosen = id === select.value;
            markers[id].setStyle(markerStyle(chosen));
            if (chosen) markers[id].bringToFront();
          });
        }
        select.addEventListener("change", highlight);
        highlight();
        el._map = map;
      })
      .catch(function () { /* the list still works */ });
  }

  function initPlace(box) {
    function show() {
      var checked = box.querySelector("input[name=place]:checked");
      var mode = checked ? checked.value : "";
      box.querySelectorAll("[data-place-section]").forEach(function (section) {
        section.hidden = section.getAttribute("data-place-section").split(" ").indexOf(mode) < 0;
      });
      if (mode === "grid") initMap(box);
    }
    box.querySelectorAll("input[name=place]").forEach(function (r) { r.addEventListener("change", show); });
    show();
  }

  function init() {
    syncToggles();
    document.querySelectorAll("[data-place]").forEach(initPlace);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
