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

        // Labels: the chosen place's first, then cells, grids and compounds. Each goes at the centre of the part
        // of its outline in view (its cell's centroid when the whole cell shows), or a little above, below or
        // beside it, wherever it lies wholly inside that part and clears every label already shown; else it is
        // hidden. A split grid names its micro-grids only when all of them in view have room, else itself.
        // No two labels ever overlap.
        var ORDER = { cell: 0, area: 1, compound: 2 };
        labels.sort(function (a, b) {
          return (ORDER[a.feature.properties.role] - ORDER[b.feature.properties.role]) || (b.area - a.area);
        });
        var MOVES = [[0, 0], [0, -1.1], [0, 1.1], [-0.6, 0], [0.6, 0], [0, -2.2], [0, 2.2]];

        function clipToView(ring, w, h) {  // Sutherland-Hodgman against the map's rectangle, in screen points
          var edges = [function (p) { return p[0] >= 0; }, function (p) { return p[0] <= w; },
                       function (p) { return p[1] >= 0; }, function (p) { return p[1] <= h; }];
          var cuts = [function (a, b) { return cutAt(a, b, 0, 0); }, function (a, b) { return cutAt(a, b, 0, w); },
                      function (a, b) { return cutAt(a, b, 1, 0); }, function (a, b) { return cutAt(a, b, 1, h); }];
          function cutAt(a, b, axis, v) {
            var t = (v - a[axis]) / (b[axis] - a[axis]);
            return [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
          }
          var out = ring;
          for (var e = 0; e < 4 && out.length; e++) {
            var input = out, keep = edges[e];
            out = [];
            for (var i = 0; i < input.length; i++) {
              var a = input[i], b = input[(i + 1) % input.length];
              if (keep(a)) out.push(a);
              if (keep(a) !== keep(b)) out.push(cuts[e](a, b));
            }
          }
          return out;
        }
        function centroid(ring) {
          var a = 0, cx = 0, cy = 0;
          for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
            var cross = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
            a += cross; cx += (ring[j][0] + ring[i][0]) * cross; cy += (ring[j][1] + ring[i][1]) * cross;
          }
          return Math.abs(a) < 1e-9 ? null : { x: cx / (3 * a), y: cy / (3 * a), area: Math.abs(a / 2) };
        }
        function inPiece(x, y, piece) {
          return insideRings(x, y, [piece]);
        }
        function within(r, w, h) {
          return r.left >= 0 && r.right <= w && r.top >= 0 && r.bottom <= h;
        }

        function declutter() {
          var zoom = map.getZoom(), size = map.getSize(), w = size.x, h = size.y;
          var origin = el.getBoundingClientRect();
          // the zoom buttons and the compounds' points are in the way like labels already shown (screen points
          // relative to the map from here on)
          var shown = Array.prototype.map.call(el.querySelectorAll(".leaflet-control"), function (c) {
            var r = c.getBoundingClientRect();
            return { left: r.left - origin.left, right: r.right - origin.left, top: r.top - origin.top, bottom: r.bottom - origin.top };
          });
          var chosen = places[select.value];
          var order = chosen ? [chosen].concat(labels.filter(function (x) { return x !== chosen; })) : labels;
          order.forEach(function (item) {
            var f = item.feature, node = item.label.getElement();
            item.spot = null;
            if (f.geometry.type === "Point") {
              var p = map.latLngToContainerPoint([f.geometry.coordinates[1], f.geometry.coordinates[0]]);
              shown.push({ left: p.x - 4, right: p.x + 4, top: p.y - 4, bottom: p.y + 4 });
              item.anchor = p.x >= 0 && p.x <= w && p.y >= 0 && p.y <= h ? { x: p.x, y: p.y } : null;
              item.piece = null;
            } else {  // the largest piece of the outline in view, and its centroid
              var best = null;
              ringsOf(f.geometry).forEach(function (poly) {
                var ring = poly[0].map(function (c) { var q = map.latLngToContainerPoint([c[1], c[0]]); return [q.x, q.y]; });
                var piece = clipToView(ring, w, h), c = piece.length >= 3 ? centroid(piece) : null;
                if (c && (!best || c.area > best.c.area)) best = { c: c, piece: piece };
              });
              item.anchor = best && inPiece(best.c.x, best.c.y, best.piece) ? best.c : null;
              item.piece = best ? best.piece : null;
            }
            if (node) node.classList.remove("is-hidden");
            if (item.anchor) {
              item.label.options.offset = L.point(0, 0);
              item.label.setLatLng(map.containerPointToLatLng([item.anchor.x, item.anchor.y]));
            }
          });
          var boxes = order.map(function (item) {  // one read of every label's size
            var node = item.label.getElement();
            if (!node || !item.anchor) return null;
            var r = node.getBoundingClientRect();
            return { w: r.right - r.left, h: r.bottom - r.top };
          });
          function spot(item, box, free) {  // where the label fits (free: and clears those shown), or null
            var moves = item.piece ? MOVES : [[0, 0.9]];  // a compound's point: its name just below it
            for (var k = 0; k < moves.length; k++) {
              var dx = Math.round(moves[k][0] * box.w), dy = Math.round(moves[k][1] * box.h);
              var x = item.anchor.x + dx, y = item.anchor.y + dy;
              var r = { left: x - box.w / 2, right: x + box.w / 2, top: y - box.h / 2, bottom: y + box.h / 2 };
              if (!within(r, w, h)) continue;
              if (item.piece) {  // the label's middle within the outline: its ends may overhang a little
                var ix = box.w * 0.15, iy = 2;
                var corners = [[r.left + ix, r.top + iy], [r.right - ix, r.top + iy],
                               [r.left + ix, r.bottom - iy], [r.right - ix, r.bottom - iy]];
                if (!corners.every(function (c) { return inPiece(c[0], c[1], item.piece); })) continue;
              } else if (zoom < 17) {
                continue;  // compounds are named close up only
              }
              if (free && shown.some(function (s) { return overlaps(s, r); })) continue;
              return { r: r, dx: dx, dy: dy };
            }
            return null;
          }
          // A split grid names its micro-grids when every one of them in view has room, else itself.
          var crowded = {};
          order.forEach(function (item, i) {
            var p = item.feature.properties;
            if (p.kind === "micro_grid" && boxes[i] && !spot(item, boxes[i], false)) crowded[p.grid] = true;
          });
          order.forEach(function (item, i) {
            var p = item.feature.properties, box = boxes[i], placed = null;
            if (box && item === chosen) {
              placed = { r: null, dx: 0, dy: 0 };
            } else if (box && !(p.kind === "micro_grid" && crowded[p.grid])) {
              placed = spot(item, box, true);
            }
            var node = item.label.getElement();
            if (!placed) { if (node) node.classList.add("is-hidden"); return; }
            if (placed.r) shown.push(placed.r);
            else shown.push({ left: item.anchor.x - box.w / 2, right: item.anchor.x + box.w / 2,
                              top: item.anchor.y - box.h / 2, bottom: item.anchor.y + box.h / 2 });
            if (placed.dx || placed.dy) {
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
