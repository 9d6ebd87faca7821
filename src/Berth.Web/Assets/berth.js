// Berth's only script: small enhancements of pages that work without it (no inline script anywhere; CSP 'self').
// - copy buttons ([data-copy]): shown only when the clipboard can be used, with a spoken confirmation;
// - live search ([data-live-search]): results refresh while typing, the URL follows, Enter still submits;
// - menus (<details class="menu">): close on Escape and on a click elsewhere.
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
})();
