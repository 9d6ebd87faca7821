// Berth's only script: small enhancements of pages that work without it (no inline script anywhere; CSP 'self').
// - copy buttons ([data-copy]): shown only when the clipboard can be used, with a spoken confirmation;
// - live search ([data-live-search]): results refresh while typing, the URL follows, Enter still submits;
// - menus (<details class="menu">): close on Escape and on a click elsewhere;
// - curve charts (svg.curve-svg): live smoothing, a hover read-out, drag to zoom; settings forms submit on change;
// - a running run's page ([data-refresh]) re-reads its curves every few seconds while it runs.
(function () {
  "use strict";

  var live = document.createElement("div");
  live.className = "visually-hidden";
  live.setAttribute("aria-live", "polite");
  live.setAttribute("role", "status");
  document.addEventListener("DOMContentLoaded", function () {
    document.body.appendChild(live);
    setUpCopy(document);
    setUpLiveSearch();
    setUpMenus();
    setUpChartControls();
    setUpCharts(document);
    setUpRefresh();
    setUpCompareCount();
  });

  function announce(text) {
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 30);
  }

  function setUpCopy(root) {
    if (!navigator.clipboard || !window.isSecureContext) {
      return;
    }
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) {
      return;
    }
    navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
      button.classList.add("copied");
      announce("Copied");
      window.setTimeout(function () { button.classList.remove("copied"); }, 1500);
    }, function () {
      announce("Copying failed");
    });
  });

  function setUpLiveSearch() {
    var input = document.querySelector("input[data-live-search]");
    var results = document.querySelector("[data-results]");
    if (!input || !results || !window.fetch || !window.DOMParser) {
      return;
    }
    var form = input.form;
    var timer = 0;
    var last = input.value;
    var controller = null;
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 350);
    });

    function refresh() {
      if (input.value === last) {
        return;
      }
      last = input.value;
      var params = new URLSearchParams(new FormData(form));
      params.forEach(function (value, key) { if (value === "") { params.delete(key); } });
      var url = form.getAttribute("action") + (params.toString() ? "?" + params.toString() : "");
      if (controller) {
        controller.abort();
      }
      controller = new AbortController();
      fetch(url, { headers: { "Accept": "text/html" }, credentials: "same-origin", signal: controller.signal })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) {
          var next = new DOMParser().parseFromString(html, "text/html").querySelector("[data-results]");
          if (next) {
            results.replaceChildren.apply(results, Array.prototype.slice.call(next.childNodes));
            setUpCopy(results);
            window.history.replaceState(null, "", url);
            var count = results.querySelectorAll(".model-row").length;
            announce(count === 0 ? "No models match" : count + (count === 1 ? " model" : " models") + " shown");
          }
        })
        .catch(function () { /* the form still works: Enter submits it */ });
    }
  }

  function setUpMenus() {
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") {
        return;
      }
      document.querySelectorAll("details.menu[open]").forEach(function (menu) {
        menu.open = false;
        var summary = menu.querySelector("summary");
        if (summary) {
          summary.focus();
        }
      });
    });
    document.addEventListener("click", function (event) {
      document.querySelectorAll("details.menu[open]").forEach(function (menu) {
        if (!menu.contains(event.target)) {
          menu.open = false;
        }
      });
    });
  }

  // Curve charts. The svg carries its scales (data-x0/x1/y0/y1 in the chart's units, data-left/right/top/bottom in
  // view-box units, data-log, data-axis) so values can be read back from the drawn polylines.
  function scales(svg) {
    var d = svg.dataset;
    return {
      x0: +d.x0, x1: +d.x1, y0: +d.y0, y1: +d.y1, left: +d.left, right: +d.right, top: +d.top, bottom: +d.bottom,
      log: d.log === "1", time: d.axis === "time"
    };
  }

  function parsePoints(text) {
    var xs = [], ys = [];
    (text || "").trim().split(/\s+/).forEach(function (pair) {
      var comma = pair.indexOf(",");
      if (comma > 0) {
        xs.push(+pair.slice(0, comma));
        ys.push(+pair.slice(comma + 1));
      }
    });
    return { xs: xs, ys: ys };
  }

  // The same debiased exponential moving average as the server's Curves.Smooth (on the drawn y, an affine image of the values).
  function smooth(ys, weight) {
    var out = [], last = 0, correction = 1;
    for (var i = 0; i < ys.length; i++) {
      if (weight <= 0) {
        out.push(ys[i]);
        continue;
      }
      last = last * weight + (1 - weight) * ys[i];
      correction *= weight;
      out.push(last / (1 - correction));
    }
    return out;
  }

  function applySmoothing(root, weight) {
    root.querySelectorAll("svg.curve-svg").forEach(function (svg) {
      svg.classList.toggle("smoothed", weight > 0);
      svg.querySelectorAll("g.curve").forEach(function (g) {
        var line = g.querySelector(".curve-line");
        var target = g.querySelector(".curve-smooth");
        if (!line || !target) {
          return;
        }
        if (weight <= 0) {
          target.setAttribute("points", "");
          return;
        }
        var p = parsePoints(line.getAttribute("points"));
        var ys = smooth(p.ys, weight);
        target.setAttribute("points", p.xs.map(function (x, i) { return x.toFixed(1) + "," + ys[i].toFixed(1); }).join(" "));
      });
    });
  }

  function setUpChartControls() {
    document.querySelectorAll("form[data-chart-controls]").forEach(function (form) {
      form.querySelectorAll("[data-autosubmit]").forEach(function (input) {
        input.addEventListener("change", function () {
          if (form.requestSubmit) {
            form.requestSubmit();
          } else {
            form.submit();
          }
        });
      });
      var slider = form.querySelector("input[data-smooth]");
      var output = form.querySelector("[data-smooth-value]");
      if (!slider) {
        return;
      }
      slider.addEventListener("input", function () {
        var weight = +slider.value;
        if (output) {
          output.textContent = weight.toFixed(2);
        }
        applySmoothing(document, weight);
        var url = new URL(window.location.href);
        if (weight > 0) {
          url.searchParams.set("smooth", String(weight));
        } else {
          url.searchParams.delete("smooth");
        }
        window.history.replaceState(null, "", url.toString());
      });
    });
  }

  var svgNs = "http://www.w3.org/2000/svg";

  function formatValue(value, span) {
    if (!isFinite(value)) {
      return String(value);
    }
    var decimals = span > 0 ? Math.max(0, Math.min(10, Math.ceil(-Math.log10(span / 2000)))) : 4;
    var magnitude = Math.abs(value);
    if (magnitude !== 0 && (magnitude < 1e-4 || magnitude >= 1e9)) {
      return value.toPrecision(4);
    }
    return (+value.toFixed(decimals)).toLocaleString("en-US", { maximumFractionDigits: decimals });
  }

  function formatDuration(seconds) {
    seconds = Math.max(0, seconds);
    if (seconds < 60) {
      return Math.round(seconds) + "s";
    }
    var m = Math.floor(seconds / 60), h = Math.floor(m / 60), d = Math.floor(h / 24);
    if (d > 0) {
      return d + "d " + (h % 24) + "h";
    }
    if (h > 0) {
      return h + "h " + (m % 60) + "m";
    }
    return m + "m " + Math.round(seconds % 60) + "s";
  }

  // A dragged time range back to steps, through the run's sampled clock ("step:seconds …").
  function stepAt(svg, seconds) {
    var pairs = (svg.dataset.clock || "").trim().split(/\s+/).map(function (p) { var c = p.split(":"); return [+c[0], +c[1]]; })
      .filter(function (p) { return isFinite(p[0]) && isFinite(p[1]); });
    if (pairs.length === 0) {
      return null;
    }
    if (seconds <= pairs[0][1]) {
      return pairs[0][0];
    }
    for (var i = 1; i < pairs.length; i++) {
      if (seconds <= pairs[i][1]) {
        var a = pairs[i - 1], b = pairs[i];
        return b[1] === a[1] ? a[0] : a[0] + (b[0] - a[0]) * (seconds - a[1]) / (b[1] - a[1]);
      }
    }
    return pairs[pairs.length - 1][0];
  }

  function setUpCharts(root) {
    root.querySelectorAll("svg.curve-svg").forEach(function (svg) {
      if (svg.dataset.ready) {
        return;
      }
      svg.dataset.ready = "1";
      var s = scales(svg);
      var frame = svg.parentNode;
      var curves = Array.prototype.map.call(svg.querySelectorAll("g.curve"), function (g) {
        return { g: g, name: g.getAttribute("data-name"), points: null };
      });
      var cursor = document.createElementNS(svgNs, "line");
      cursor.setAttribute("class", "curve-cursor");
      cursor.setAttribute("y1", s.top);
      cursor.setAttribute("y2", s.bottom);
      cursor.style.display = "none";
      svg.appendChild(cursor);
      var tip = document.createElement("div");
      tip.className = "curve-tip";
      tip.hidden = true;
      tip.setAttribute("aria-hidden", "true");
      frame.appendChild(tip);
      var zoom = null, dragFrom = null;

      function toUnits(event) {
        var box = svg.getBoundingClientRect();
        var viewBox = svg.viewBox.baseVal;
        var scale = Math.min(box.width / viewBox.width, box.height / viewBox.height);
        var offsetX = (box.width - viewBox.width * scale) / 2;
        return { x: (event.clientX - box.left - offsetX) / scale, box: box, scale: scale, offsetX: offsetX };
      }

      function xValue(units) {
        return s.x0 + (units - s.left) / (s.right - s.left) * (s.x1 - s.x0);
      }

      function yValue(units) {
        var scaled = s.y0 + (1 - (units - s.top) / (s.bottom - s.top)) * (s.y1 - s.y0);
        return s.log ? Math.pow(10, scaled) : scaled;
      }

      function nearest(points, x) {
        var lo = 0, hi = points.xs.length - 1;
        if (hi < 0) {
          return -1;
        }
        while (hi - lo > 1) {
          var mid = (lo + hi) >> 1;
          if (points.xs[mid] <= x) { lo = mid; } else { hi = mid; }
        }
        return Math.abs(points.xs[hi] - x) < Math.abs(points.xs[lo] - x) ? hi : lo;
      }

      function hide() {
        cursor.style.display = "none";
        tip.hidden = true;
        svg.classList.remove("hovering");
        curves.forEach(function (c) { c.g.classList.remove("curve-hot"); });
      }

      svg.addEventListener("pointermove", function (event) {
        var at = toUnits(event);
        if (at.x < s.left || at.x > s.right) {
          hide();
          return;
        }
        if (dragFrom !== null && zoom) {
          var a = Math.max(s.left, Math.min(dragFrom, at.x)), b = Math.min(s.right, Math.max(dragFrom, at.x));
          zoom.setAttribute("x", a);
          zoom.setAttribute("width", Math.max(0, b - a));
        }
        var smoothed = svg.classList.contains("smoothed");
        var rows = [];
        var span = s.log ? 0 : Math.abs(s.y1 - s.y0);
        var bestDistance = Infinity, hot = null;
        curves.forEach(function (c) {
          var line = c.g.querySelector(smoothed ? ".curve-smooth" : ".curve-line");
          c.points = parsePoints(line ? line.getAttribute("points") : "");
          var i = nearest(c.points, at.x);
          if (i < 0) {
            return;
          }
          var value = yValue(c.points.ys[i]);
          rows.push({ name: c.name, value: value, curve: c });
          var distance = Math.abs(c.points.xs[i] - at.x);
          if (distance < bestDistance) {
            bestDistance = distance;
          }
        });
        if (rows.length === 0) {
          hide();
          return;
        }
        // The curve closest to the pointer vertically is highlighted (with several runs).
        var pointerY = (event.clientY - at.box.top) / at.scale;
        var closest = Infinity;
        rows.forEach(function (row) {
          var i = nearest(row.curve.points, at.x);
          var d = Math.abs(row.curve.points.ys[i] - pointerY);
          if (d < closest) {
            closest = d;
            hot = row.curve;
          }
        });
        cursor.setAttribute("x1", at.x);
        cursor.setAttribute("x2", at.x);
        cursor.style.display = "";
        if (curves.length > 1) {
          svg.classList.add("hovering");
          curves.forEach(function (c) { c.g.classList.toggle("curve-hot", c === hot); });
        }
        rows.sort(function (a, b) { return b.value - a.value; });
        var x = xValue(at.x);
        tip.replaceChildren();
        var head = document.createElement("div");
        head.className = "curve-tip-x";
        head.textContent = s.time ? formatDuration(x) + " since the start" : "step " + Math.round(x).toLocaleString("en-US");
        tip.appendChild(head);
        rows.slice(0, 12).forEach(function (row) {
          var line = document.createElement("div");
          line.className = "curve-tip-row " + (row.curve.g.getAttribute("class") || "").replace("curve", "").trim();
          var swatch = document.createElement("span");
          swatch.className = "legend-line";
          var name = document.createElement("span");
          name.textContent = row.name + (smoothed ? " (smoothed)" : "");
          var value = document.createElement("strong");
          value.textContent = formatValue(row.value, span);
          line.appendChild(swatch);
          line.appendChild(name);
          line.appendChild(value);
          tip.appendChild(line);
        });
        tip.hidden = false;
        var left = at.offsetX + at.x * at.scale + 12;
        if (left + tip.offsetWidth > at.box.width) {
          left = Math.max(0, at.offsetX + at.x * at.scale - tip.offsetWidth - 12);
        }
        tip.style.left = left + "px";
        tip.style.top = "8px";
      });
      svg.addEventListener("pointerleave", function () {
        hide();
        if (zoom) {
          zoom.remove();
          zoom = null;
          dragFrom = null;
        }
      });

      if (!svg.dataset.zoom) {
        return;
      }
      svg.addEventListener("pointerdown", function (event) {
        if (event.button !== 0 || event.pointerType === "touch") {
          return;
        }
        var at = toUnits(event);
        if (at.x < s.left || at.x > s.right) {
          return;
        }
        dragFrom = at.x;
        zoom = document.createElementNS(svgNs, "rect");
        zoom.setAttribute("class", "curve-zoom");
        zoom.setAttribute("x", at.x);
        zoom.setAttribute("y", s.top);
        zoom.setAttribute("width", 0);
        zoom.setAttribute("height", s.bottom - s.top);
        svg.appendChild(zoom);
        event.preventDefault();
      });
      svg.addEventListener("pointerup", function (event) {
        if (dragFrom === null) {
          return;
        }
        var at = toUnits(event);
        var a = Math.max(s.left, Math.min(dragFrom, at.x)), b = Math.min(s.right, Math.max(dragFrom, at.x));
        dragFrom = null;
        if (zoom) {
          zoom.remove();
          zoom = null;
        }
        if (b - a < 4) {
          return;
        }
        var from = xValue(a), to = xValue(b);
        if (s.time) {
          from = stepAt(svg, from);
          to = stepAt(svg, to);
          if (from === null || to === null) {
            return;
          }
        }
        from = Math.floor(from);
        to = Math.ceil(to);
        if (to <= from) {
          to = from + 1;
        }
        var url = new URL(window.location.href);
        url.searchParams.set("from", String(from));
        url.searchParams.set("to", String(to));
        url.hash = svg.closest("figure") && svg.closest("figure").id ? svg.closest("figure").id : "";
        window.location.assign(url.toString());
      });
    });
  }

  // A running run: re-read the page every few seconds and swap its live parts (status, curves, summary), while the
  // tab is visible; stop once the run has ended (and say so).
  function setUpRefresh() {
    var container = document.querySelector("[data-refresh]");
    if (!container || !window.fetch || !window.DOMParser) {
      return;
    }
    var interval = Math.max(2000, +container.getAttribute("data-refresh") || 5000);
    var busy = false;
    var timer = window.setInterval(function () {
      if (busy || document.hidden) {
        return;
      }
      busy = true;
      fetch(window.location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) {
          var next = new DOMParser().parseFromString(html, "text/html");
          document.querySelectorAll("[data-live]").forEach(function (part) {
            var name = part.getAttribute("data-live");
            var fresh = next.querySelector("[data-live=\"" + name + "\"]");
            if (fresh) {
              part.replaceChildren.apply(part, Array.prototype.slice.call(fresh.childNodes));
            }
          });
          setUpCopy(document);
          setUpCharts(document);
          var run = next.querySelector("[data-live-run]");
          if (!run || run.getAttribute("data-live-run") !== "running") {
            window.clearInterval(timer);
            container.removeAttribute("data-refresh");
            var hint = document.querySelector(".run-live-hint");
            if (hint) {
              hint.remove();
            }
            announce("The run has ended");
          }
        })
        .catch(function () { /* try again at the next tick */ })
        .then(function () { busy = false; });
    }, interval);
  }

  // The runs table: the compare button says how many runs are ticked.
  function setUpCompareCount() {
    var button = document.querySelector("[data-compare-button]");
    if (!button) {
      return;
    }
    var label = button.textContent;
    document.addEventListener("change", function (event) {
      if (!event.target.matches || !event.target.matches("input[form=\"compare-runs\"]")) {
        return;
      }
      var count = document.querySelectorAll("input[form=\"compare-runs\"]:checked").length;
      button.textContent = count === 0 ? label : "Compare " + count + (count === 1 ? " ticked run" : " ticked runs");
    });
  }
})();
