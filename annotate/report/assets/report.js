/* The report's only script: tooltips on hover and keyboard focus, filters by theme,
   annotator and status, and marking the shared passage a link lands on. No library, no
   network; the pages read fine without it. */
(function () {
  "use strict";
  var text = document.getElementById("text");

  /* Landing on a passage (#r12) marks all of its runs, which may span sentences. */
  function markPassage() {
    var old = document.querySelectorAll(".m.rp.current");
    for (var i = 0; i < old.length; i++) old[i].classList.remove("current");
    var id = decodeURIComponent(location.hash.slice(1));
    if (!id || !text) return;
    var runs = text.querySelectorAll(".m.rp");
    var first = null;
    for (var j = 0; j < runs.length; j++) {
      if ((" " + runs[j].getAttribute("data-r") + " ").indexOf(" " + id + " ") >= 0) {
        runs[j].classList.add("current");
        if (!first) first = runs[j];
      }
    }
    var anchor = document.getElementById(id);
    /* After the browser's own jump to the anchor, which leaves it at the very top. */
    if (first && anchor) setTimeout(function () { anchor.scrollIntoView({block: "center"}); }, 0);
  }
  window.addEventListener("hashchange", markPassage);
  if (document.readyState === "complete") markPassage();
  else window.addEventListener("load", markPassage);

  if (!text) return;

  /* Theme, annotator and status filters. */
  var themes = {};
  var boxes = document.querySelectorAll(".filters input[data-filter]");
  for (var b = 0; b < boxes.length; b++) {
    var box = boxes[b];
    if (box.getAttribute("data-filter") === "theme") {
      themes[box.value] = {color: box.getAttribute("data-color"),
                           tint: box.getAttribute("data-tint"),
                           label: box.getAttribute("data-label")};
    }
  }
  var rows = {};
  var trs = document.querySelectorAll("table.anns tr[id^='ann-']");
  for (var r = 0; r < trs.length; r++) {
    var tr = trs[r];
    rows[tr.id.slice(4)] = {row: tr, themes: (tr.getAttribute("data-t") || "").split(" ").filter(Boolean),
                            user: tr.getAttribute("data-u"), status: tr.getAttribute("data-s")};
  }
  function offSet(kind) {
    var off = {};
    var inputs = document.querySelectorAll(".filters input[data-filter='" + kind + "']");
    for (var i = 0; i < inputs.length; i++) if (!inputs[i].checked) off[inputs[i].value] = true;
    return off;
  }
  function apply() {
    var offT = offSet("theme"), offU = offSet("user"), offS = offSet("status");
    function annOn(a) {
      if (!a || offU[a.user] || offS[a.status]) return false;
      return a.themes.length === 0 || a.themes.some(function (t) { return !offT[t]; });
    }
    for (var k in rows) rows[k].row.classList.toggle("filtered", !annOn(rows[k]));
    var runs = text.querySelectorAll(".m");
    for (var i = 0; i < runs.length; i++) {
      var run = runs[i], shadows = [];
      var anns = (run.getAttribute("data-a") || "").split(" ").filter(Boolean);
      var any = false;
      anns.forEach(function (n) {
        var a = rows[n];
        if (!annOn(a)) return;
        any = true;
        a.themes.forEach(function (t) {
          if (offT[t] || !themes[t]) return;
          shadows.push("0 " + 3 * (shadows.length + 1) + "px 0 " + themes[t].color);
        });
      });
      if (anns.length) {
        run.style.boxShadow = shadows.join(",");
        run.classList.toggle("off", !any);
        if (any) run.setAttribute("tabindex", "0"); else run.removeAttribute("tabindex");
      }
      var ev = (run.getAttribute("data-e") || "").split(" ").filter(function (t) {
        return t && !offT[t] && themes[t];
      });
      if (run.hasAttribute("data-e")) {
        if (ev.length === 0) run.style.background = "";
        else if (ev.length === 1) run.style.background = themes[ev[0]].tint;
        else run.style.background = "linear-gradient(" + ev.map(function (t, j) {
          return themes[t].tint + " " + (100 * j / ev.length) + "% " + (100 * (j + 1) / ev.length) + "%";
        }).join(",") + ")";
      }
    }
    var dots = text.querySelectorAll(".hm i");
    for (var d = 0; d < dots.length; d++) dots[d].hidden = !!offT[dots[d].className];
  }
  for (var f = 0; f < boxes.length; f++) boxes[f].addEventListener("change", apply);

  /* Tooltips: what a run carries, on hover and on keyboard focus. */
  var tip = document.getElementById("tip");
  function item(parts) {
    var div = document.createElement("div");
    div.className = "tip-item";
    parts.forEach(function (p) {
      if (typeof p === "string") div.appendChild(document.createTextNode(p));
      else div.appendChild(p);
    });
    return div;
  }
  function swatch(color) {
    var s = document.createElement("span");
    s.className = "swatch";
    s.style.background = color;
    return s;
  }
  function show(run) {
    var offT = offSet("theme");
    tip.textContent = "";
    (run.getAttribute("data-a") || "").split(" ").filter(Boolean).forEach(function (n) {
      var a = rows[n];
      if (!a || a.row.classList.contains("filtered")) return;
      var cells = a.row.cells;
      var parts = [];
      a.themes.forEach(function (t) {
        if (themes[t] && !offT[t]) {
          var chip = document.createElement("span");
          chip.className = "chip";
          chip.appendChild(swatch(themes[t].color));
          chip.appendChild(document.createTextNode(themes[t].label));
          parts.push(chip);
        }
      });
      var who = document.createElement("div");
      who.textContent = cells[3].textContent + " · " + cells[4].textContent;
      parts.push(who);
      var note = cells[5].textContent;
      if (note) {
        var q = document.createElement("div");
        q.className = "tip-note";
        q.textContent = "“" + note + "”";
        parts.push(q);
      }
      tip.appendChild(item(parts));
    });
    (run.getAttribute("data-e") || "").split(" ").filter(Boolean).forEach(function (t) {
      if (themes[t] && !offT[t]) tip.appendChild(item([swatch(themes[t].color), "codebook hit: " + themes[t].label]));
    });
    (run.getAttribute("data-r") || "").split(" ").filter(Boolean).forEach(function (p) {
      var link = document.getElementById(p);
      tip.appendChild(item(["⇄ shared passage " + p + (link ? " · " + link.title.replace(/^Passage \S+, /, "") : "")]));
    });
    if (!tip.firstChild) { hide(); return; }
    var rect = run.getBoundingClientRect();
    tip.hidden = false;
    tip.style.left = Math.max(4, Math.min(window.scrollX + rect.left, window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 8)) + "px";
    tip.style.top = (window.scrollY + rect.bottom + 8) + "px";
    run.setAttribute("aria-describedby", "tip");
  }
  function hide() { tip.hidden = true; }
  text.addEventListener("mouseover", function (e) {
    var run = e.target.closest && e.target.closest(".m");
    if (run) show(run); else hide();
  });
  text.addEventListener("mouseleave", hide);
  text.addEventListener("focusin", function (e) {
    var run = e.target.closest && e.target.closest(".m");
    if (run) show(run);
  });
  text.addEventListener("focusout", hide);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") hide(); });
})();
