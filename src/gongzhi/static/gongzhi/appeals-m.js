/* The resident's appeal pages: the large-text toggle, the place picker (household / map / address) and
   the map of grids drawn from GeoJSON outlines with Leaflet and no tile layer (no tile server is reachable). */
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

  // --- the place map: outlines of grids, micro-grids and compounds drawn from GeoJSON alone ---------------
  // The server sends (places.geojson) the outlines of the places one may pick: "cell" features are picked by a
  // tap inside them (micro-grids, and grids not split into micro-grids), "area" features are grids drawn
  // around their micro-grids' cells, "compound" features are outlines or points. Outlines are set ones or
  // derived from the points (orgs.selectors.place_outlines). The list below the map picks the same places
  // with the keyboard; the map follows it.

  var FILLS = ["#cfe3f5", "#d7ecd0", "#f8e3bd", "#e6d6ee", "#f6d3cc", "#cdeae7", "#ece6bf", "#dcdcf2"];
  var INK = "#3d5368";
  var PICKED = { color: "#962d22", weight: 3, fillColor: "#c0392b", fillOpacity: 0.4 };

  function ringsOf(geometry) {  // [[outer, hole...], ...] of [lng, lat]
    if (geometry.type === "Polygon") return [geometry.coordinates];
    if (geometry.type === "MultiPolygon") return geometry.coordinates;
    return [];
  }

  function insideRings(lng, lat, polygon) {  // even-odd rule over a polygon's rings
    var hit = false;
    polygon.forEach(function (ring) {
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
        if ((yi > lat) !== (yj > lat) && lng < (xj - xi) * (lat - yi) / (yj - yi) + xi) hit = !hit;
      }
    });
    return hit;
  }

  function ringArea(ring) {
    var a = 0;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) a += (ring[j][0] + ring[i][0]) * (ring[j][1] - ring[i][1]);
    return Math.abs(a / 2);
  }

  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  function initMap(box) {
    var el = box.querySelector("[data-points]");
    if (!el || !window.L) return;
    if (el._map) { el._map.invalidateSize(); return; }
    if (el._loading) return;
    el._loading = true;
    var L = window.L;
    var select = box.querySelector("select[name=node]");
    var hint = box.querySelector("[data-map-hint]");
    fetch(el.getAttribute("data-points"), { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) { return r.ok ? r.json() : { features: [] }; })
      .then(function (geo) {
        if (!geo.features || !geo.features.length) return;  // nothing mapped: the list alone
        el.hidden = false;
        if (hint) hint.hidden = false;
        var map = L.map(el, { attributionControl: false, zoomSnap: 0.25, maxZoom: 19 });
        var fills = {}, places = {}, labels = [], all = L.featureGroup().addTo(map);
        geo.features.forEach(function (f) {
          var p = f.properties;
          if (p.grid !== null && p.grid !== undefined && !(p.grid in fills)) {
            fills[p.grid] = FILLS[Object.keys(fills).length % FILLS.length];
          }
        });

        function baseStyle(p) {
          if (p.role === "area") return { color: INK, weight: 2.5, fill: false, opacity: 0.9 };
          if (p.role === "compound") return { color: "#7a6a55", weight: 1, dashArray: "3 3", fill: false, opacity: 0.8 };
          var grid = p.kind === "grid";  // a grid not split into micro-grids: its edge is a grid's edge
          return { color: grid ? INK : "#ffffff", weight: grid ? 2.5 : 1.5, opacity: 1,
                   fillColor: fills[p.grid] || FILLS[0], fillOpacity: 0.85 };
        }

        geo.features.forEach(function (f) {
          var p = f.properties, layer;
          if (f.geometry.type === "Point") {
            var ll = L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]);
            layer = L.circleMarker(ll, { radius: 3, color: "#7a6a55", weight: 1, fillColor: "#ffffff", fillOpacity: 1,
                                         interactive: false, className: "place-compound" });
          } else {
            layer = L.geoJSON(f, {
              interactive: p.role === "cell",
              style: function () {
                return Object.assign({ className: "place-" + p.role + " place-" + p.id }, baseStyle(p));
              }
            });
          }
          layer.addTo(all);
          // One label per place, at its cell's centre; names are typed by users: a text node, never HTML.
          var label = L.tooltip({ permanent: true, direction: "center", interactive: false,
                                  className: "cell-label " + p.role + "-label" })
            .setLatLng(L.latLng(p.center[1], p.center[0]))
            .setContent(document.createTextNode(p.name));
          label.addTo(map);
          var item = { feature: f, layer: layer, label: label, area: 0 };
          ringsOf(f.geometry).forEach(function (poly) { item.area += ringArea(poly[0]); });
          labels.push(item);
          if (p.role !== "compound") places[String(p.id)] = item;
        });

        // Labels: the chosen place's first, then cells, grids and compounds. Each goes at its outline's centre,
        // or a little above, below or beside it, wherever it lies wholly inside its outline on the screen and
        // clears every label already shown; else it is hidden (at a low zoom, micro-grids give way to their
        // grids). No two labels ever overlap.
        var ORDER = { cell: 0, area: 1, compound: 2 };
        labels.sort(function (a, b) {
          return (ORDER[a.feature.properties.role] - ORDER[b.feature.properties.role]) || (b.area - a.area);
        });
        var MOVES = [[0, 0], [0, -1.1], [0, 1.1], [-0.6, 0], [0.6, 0], [0, -2.2], [0, 2.2]];
        function rectInside(item, r, origin) {
          var polys = ringsOf(item.feature.geometry), inset = 2;
          return [[r.left + inset, r.top + inset], [r.right - inset, r.top + inset], [r.left + inset, r.bottom - inset],
                  [r.right - inset, r.bottom - inset]].every(function (c) {
            var ll = map.containerPointToLatLng([c[0] - origin.left, c[1] - origin.top]);
            return polys.some(function (poly) { return insideRings(ll.lng, ll.lat, poly); });
          });
        }
        function within(r, box) {
          return r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
        }
        function declutter() {
          var zoom = map.getZoom(), origin = el.getBoundingClientRect();
          // the zoom buttons are in the way like a label already shown
          var shown = Array.prototype.map.call(el.querySelectorAll(".leaflet-control"), function (c) {
            return c.getBoundingClientRect();
          });
          labels.forEach(function (item) {  // and so are the compounds' points
            if (item.feature.geometry.type !== "Point") return;
            var c = item.feature.geometry.coordinates, p = map.latLngToContainerPoint([c[1], c[0]]);
            var x = origin.left + p.x, y = origin.top + p.y;
            shown.push({ left: x - 4, right: x + 4, top: y - 4, bottom: y + 4 });
          });
          var chosen = places[select.value];
          var order = chosen ? [chosen].concat(labels.filter(function (x) { return x !== chosen; })) : labels;
          order.forEach(function (item) {  // back to the centre, shown: then one read of every label's box
            var node = item.label.getElement();
            if (!node) return;
            node.classList.remove("is-hidden");
            if (item.dx || item.dy) { item.label.options.offset = L.point(0, 0); item.label.update(); }
            item.dx = item.dy = 0;
          });
          var boxes = order.map(function (item) {
            var node = item.label.getElement();
            return node ? node.getBoundingClientRect() : null;
          });
          function spot(item, base, free) {  // where the label fits (free: and clears those shown), or null
            var w = base.right - base.left, h = base.bottom - base.top;
            var polygon = item.feature.geometry.type !== "Point";
            for (var k = 0; k < (polygon ? MOVES.length : 1); k++) {
              var dx = Math.round(MOVES[k][0] * w), dy = Math.round(MOVES[k][1] * h);
              var r = { left: base.left + dx, right: base.right + dx, top: base.top + dy, bottom: base.bottom + dy };
              if (!within(r, origin)) continue;
              if (polygon ? !rectInside(item, r, origin) : zoom < 17) continue;  // a compound's point: close up only
              if (free && shown.some(function (s) { return overlaps(s, r); })) continue;
              return { r: r, dx: dx, dy: dy };
            }
            return null;
          }
          // One level at a time: micro-grids are named only when every one in view has room in its cell;
          // else their grids are.
          var view = map.getBounds();
          var micro = order.every(function (item, i) {
            var p = item.feature.properties;
            if (p.kind !== "micro_grid" || !boxes[i] || !view.contains(L.latLng(p.center[1], p.center[0]))) return true;
            return spot(item, boxes[i], false) !== null;
          });
          order.forEach(function (item, i) {
            var base = boxes[i];
            if (!base) return;
            var placed = null;
            if (item === chosen) {
              placed = { r: base, dx: 0, dy: 0 };
            } else if (micro || item.feature.properties.kind !== "micro_grid") {
              placed = spot(item, base, true);
            }
            if (!placed) { item.label.getElement().classList.add("is-hidden"); return; }
            shown.push(placed.r);
            if (placed.dx || placed.dy) {
              item.dx = placed.dx; item.dy = placed.dy;
              item.label.options.offset = L.point(placed.dx, placed.dy);
              item.label.update();
            }
          });
        }

        function highlight() {
          Object.keys(places).forEach(function (id) {
            var item = places[id], p = item.feature.properties, chosen = id === select.value;
            if (item.layer.setStyle) item.layer.setStyle(chosen ? Object.assign({}, baseStyle(p), PICKED) : baseStyle(p));
            if (chosen && item.layer.bringToFront) item.layer.bringToFront();
            var node = item.label.getElement();
            if (node) node.classList.toggle("is-chosen", chosen);
          });
          var picked = places[select.value];
          if (picked && picked.layer.getBounds && !map.getBounds().contains(picked.layer.getBounds().getCenter())) {
            map.panTo(picked.layer.getBounds().getCenter());
          }
          declutter();
        }

        // A tap inside a cell picks it (point in polygon; a set outline over a derived one, the smaller first).
        map.on("click", function (e) {
          var lng = e.latlng.lng, lat = e.latlng.lat, best = null;
          Object.keys(places).forEach(function (id) {
            var item = places[id], p = item.feature.properties;
            if (p.role !== "cell") return;
            var hit = ringsOf(item.feature.geometry).some(function (poly) { return insideRings(lng, lat, poly); });
            if (!hit) return;
            if (!best || (p.set && !best.feature.properties.set) ||
                (p.set === best.feature.properties.set && item.area < best.area)) best = item;
          });
          if (!best || !select.querySelector('option[value="' + best.feature.properties.id + '"]')) return;
          select.value = String(best.feature.properties.id);
          select.dispatchEvent(new Event("change", { bubbles: true }));
        });

        var bounds = all.getBounds();
        map.fitBounds(bounds, { padding: [4, 4], maxZoom: 18 });
        map.setMinZoom(Math.max(0, map.getZoom() - 2));
        map.setMaxBounds(bounds.pad(0.6));
        map.on("zoomend moveend resize", declutter);
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
