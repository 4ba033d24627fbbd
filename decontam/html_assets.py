"""The HTML report page's stylesheet and script (static text, inlined by :func:`decontam.render.to_html`: the
page fetches nothing).

The script renders the sortable, filterable table of all items from the JSON embedded in the page, and scrolls
each evidence excerpt to its highlighted span.
"""

__all__ = ["PAGE_CSS", "PAGE_SCRIPT"]

PAGE_CSS = """
:root{--fg:#1d2433;--muted:#5b6478;--bg:#fff;--line:#dde1ea;--bar:#c2410c;--mark:#fde68a;--ok:#15803d}
*{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg);margin:0 auto;max-width:1100px;padding:20px 28px}
h1{font-size:24px;margin:4px 0 2px}h2{font-size:19px;margin:26px 0 8px;border-bottom:1px solid var(--line);
padding-bottom:4px}h3{font-size:15px;margin:14px 0 4px}.muted{color:var(--muted)}code,pre,.mono{font-family:
ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid var(--line);padding:4px 8px;
text-align:left;vertical-align:top}th{cursor:pointer;user-select:none;background:#f5f6f9}td.n,th.n{text-align:right}
.summary td{white-space:nowrap}.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;margin:10px 0}
.q{white-space:pre-wrap;background:#f8fafc;border-left:3px solid #94a3b8;padding:6px 10px;margin:6px 0}
.doc{white-space:pre-wrap;background:#fffbeb;border-left:3px solid var(--bar);padding:6px 10px;margin:6px 0;
max-height:260px;overflow:auto}mark{background:var(--mark);padding:0}.yes{color:var(--bar);font-weight:600}
.no{color:var(--ok)}.controls{display:flex;gap:12px;align-items:center;margin:6px 0 8px;flex-wrap:wrap}
input[type=search]{padding:4px 8px;min-width:260px}svg text{font-family:system-ui,sans-serif}
code,.mono{overflow-wrap:anywhere;word-break:break-all}.warn{border-color:var(--bar);background:#fff7ed}.doc{position:relative}pre{white-space:pre-wrap;overflow-wrap:anywhere}
"""

PAGE_SCRIPT = r"""
(function(){
  "use strict";
  var data = JSON.parse(document.getElementById("items-data").textContent);
  var tbody = document.querySelector("#items tbody");
  var status = document.getElementById("items-status");
  var search = document.getElementById("filter-text");
  var bench = document.getElementById("filter-bench");
  var only = document.getElementById("filter-contaminated");
  var sortKey = "order", sortDir = 1, LIMIT = 500;
  data.forEach(function(r, i){ r.order = i; });
  function cmp(a, b){
    var x = a[sortKey], y = b[sortKey];
    if (typeof x === "number" && typeof y === "number") return (x - y) * sortDir;
    return String(x).localeCompare(String(y), undefined, {numeric: true}) * sortDir;
  }
  function cell(tr, text, cls){ var td = document.createElement("td"); td.textContent = text;
    if (cls) td.className = cls; tr.appendChild(td); return td; }
  function render(){
    var q = search.value.toLowerCase(), b = bench.value, c = only.checked;
    var rows = data.filter(function(r){
      if (b && r.benchmark !== b) return false;
      if (c && !r.contaminated) return false;
      return !q || r.text.indexOf(q) >= 0;
    }).sort(cmp);
    tbody.textContent = "";
    rows.slice(0, LIMIT).forEach(function(r){
      var tr = document.createElement("tr");
      cell(tr, r.benchmark);
      var td = cell(tr, ""); 
      if (r.anchor) { var a = document.createElement("a"); a.href = "#" + r.anchor; a.textContent = r.id;
        td.appendChild(a); } else { td.textContent = r.id; }
      cell(tr, r.status, r.contaminated ? "yes" : "no");
      cell(tr, String(r.documents), "n");
      cell(tr, r.probe, "mono");
      tbody.appendChild(tr);
    });
    status.textContent = "showing " + Math.min(rows.length, LIMIT) + " of " + rows.length + " matching items (" +
      data.length + " in all)" + (rows.length > LIMIT ? "; refine the filter to see the rest" : "");
  }
  document.querySelectorAll("#items th").forEach(function(th){
    th.addEventListener("click", function(){
      var k = th.getAttribute("data-key");
      if (sortKey === k) { sortDir = -sortDir; } else { sortKey = k; sortDir = 1; }
      document.querySelectorAll("#items th").forEach(function(h){ h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      render();
    });
  });
  [search, bench, only].forEach(function(el){ el.addEventListener("input", render); });
  only.addEventListener("change", render);
  render();
  // show each excerpt with its highlighted span in view
  document.querySelectorAll(".doc").forEach(function(box){
    var m = box.querySelector("mark");
    if (m) box.scrollTop = Math.max(0, m.offsetTop - 24);
  });
  document.body.setAttribute("data-ready", "1");
})();
"""
