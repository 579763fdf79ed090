/// The console's static files, compiled in: an installed binary serves them from wherever it runs.
enum Assets {
    /// `/console/assets/console.css`.
    static let stylesheet = """
        :root {
          --ink: #1c2533; --muted: #5b6b7f; --line: #dfe5ec; --paper: #ffffff; --canvas: #f3f5f8;
          --brand: #1f3a5f; --accent: #2f6fb0; --good: #2e7d4f; --bad: #b3412e; --warn: #b7791f;
        }
        * { box-sizing: border-box; }
        html { font-size: 15px; }
        body { margin: 0; font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
          background: var(--canvas); line-height: 1.45; }
        a { color: var(--accent); text-decoration: none; }
        a:hover { text-decoration: underline; }
        header.top { background: var(--brand); color: #fff; display: flex; align-items: center; gap: 28px;
          padding: 0 28px; height: 54px; }
        header.top .brand { font-weight: 700; letter-spacing: .02em; font-size: 1.05rem; color: #fff; }
        header.top nav { display: flex; gap: 4px; flex: 1; }
        header.top nav a { color: #cfdbea; padding: 16px 12px; border-bottom: 3px solid transparent; }
        header.top nav a.current { color: #fff; border-bottom-color: #7fb2e5; }
        header.top nav a:hover { color: #fff; text-decoration: none; }
        header.top .who { display: flex; align-items: center; gap: 12px; color: #cfdbea; font-size: .9rem; }
        header.top form { margin: 0; }
        header.top button { background: transparent; color: #fff; border: 1px solid #6d86a6; border-radius: 4px;
          padding: 4px 10px; cursor: pointer; font: inherit; }
        main { max-width: 1280px; margin: 0 auto; padding: 24px 28px 48px; }
        h1 { font-size: 1.5rem; margin: 0 0 4px; }
        h2 { font-size: 1.1rem; margin: 0 0 12px; }
        h3 { font-size: .95rem; margin: 16px 0 8px; color: var(--muted); }
        .subtitle { color: var(--muted); margin: 0 0 20px; }
        .panel { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 18px 20px;
          margin-bottom: 20px; overflow-x: auto; }
        .panel.notice { max-width: 640px; }
        .grid-2 { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; margin-bottom: 20px; }
        .grid-2 > * { min-width: 0; }
        .grid-2 > .panel { margin-bottom: 0; }
        .stack { margin-bottom: 0; }
        .stack { display: grid; gap: 20px; }
        .stack > .panel { margin-bottom: 0; }
        .figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px;
          margin-bottom: 20px; }
        .figure { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
        .figure .label { color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; }
        .figure .value { font-size: 1.35rem; font-weight: 700; margin-top: 2px; }
        .figure .note { color: var(--muted); font-size: .8rem; }
        table { border-collapse: collapse; width: 100%; font-size: .9rem; }
        th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
        th { color: var(--muted); font-weight: 600; font-size: .8rem; text-transform: uppercase;
          letter-spacing: .03em; }
        td.wrap { white-space: normal; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        tbody tr:hover { background: #f7f9fc; }
        th[data-sort] { cursor: pointer; }
        th[data-sort]::after { content: " \\2195"; color: #a9b6c6; }
        .table-scroll { overflow-x: auto; }
        form.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px 14px;
          align-items: end; }
        form.filters label, form.login label { display: block; font-size: .8rem; color: var(--muted); }
        input, select { width: 100%; padding: 6px 8px; border: 1px solid #c5cfdb; border-radius: 4px; font: inherit;
          background: #fff; color: var(--ink); }
        .actions { display: flex; gap: 10px; align-items: center; grid-column: 1 / -1; }
        .button, button.primary { display: inline-block; background: var(--accent); color: #fff; border: 0;
          border-radius: 4px; padding: 7px 16px; font: inherit; cursor: pointer; }
        .button.secondary { background: #e7edf4; color: var(--brand); }
        .button:hover { text-decoration: none; filter: brightness(1.05); }
        .pager { display: flex; justify-content: space-between; align-items: center; margin-top: 12px;
          color: var(--muted); }
        .tag { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: .8rem; background: #e7edf4;
          color: var(--brand); }
        .tag.gold { background: #f6e7b8; color: #6d5310; }
        .tag.silver { background: #e3e8ee; color: #3d4a59; }
        .tag.bronze { background: #f1dcc9; color: #6b3c16; }
        .tag.flag { background: #f7d9d3; color: #7c2616; }
        .muted { color: var(--muted); }
        .empty { color: var(--muted); font-style: italic; }
        .error { color: var(--bad); }
        .legend { display: flex; gap: 16px; font-size: .8rem; color: var(--muted); margin-top: 6px; flex-wrap: wrap; }
        .legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; margin-right: 6px;
          border-radius: 2px; vertical-align: -1px; background: var(--swatch, #999); }
        .legend .actual::before { background: #1f3a5f; }
        .legend .predicted::before { background: #8fb8e0; }
        .legend .value::before { background: #2f6fb0; }
        .legend .alive::before { background: #2e7d4f; }
        svg { display: block; max-width: 100%; height: auto; }
        svg a:hover rect { stroke: #7fb2e5; stroke-width: 3; }
        svg text { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; }
        ol.timeline { list-style: none; padding: 0; margin: 0; }
        ol.timeline li { display: grid; grid-template-columns: 150px 130px 1fr; gap: 12px; padding: 7px 0;
          border-bottom: 1px solid var(--line); font-size: .9rem; }
        ol.timeline .when { color: var(--muted); font-variant-numeric: tabular-nums; }
        .kind { font-weight: 600; }
        .kind.order { color: var(--accent); } .kind.refund { color: var(--bad); }
        .kind.alert { color: var(--warn); } .kind.complaint { color: var(--bad); }
        .kind.score { color: var(--good); }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; font-size: .9rem; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; }
        .login-box { max-width: 380px; margin: 80px auto; }
        form.login { display: grid; gap: 12px; }
        .message { padding: 8px 12px; border-radius: 4px; background: #fbe9e6; color: var(--bad); }
        footer { color: var(--muted); font-size: .8rem; text-align: center; padding: 12px; }
        @media (max-width: 900px) { .grid-2 { grid-template-columns: 1fr; } }
        """

    /// `/console/assets/console.js`: sorts a table by a clicked header (`th[data-sort]`), numbers as numbers.
    /// Pages work without it.
    static let script = """
        "use strict";
        document.addEventListener("DOMContentLoaded", function () {
          document.querySelectorAll("table.sortable").forEach(function (table) {
            var headers = table.querySelectorAll("th[data-sort]");
            headers.forEach(function (header, column) {
              header.addEventListener("click", function () {
                var body = table.tBodies[0];
                var rows = Array.prototype.slice.call(body.rows);
                var index = Array.prototype.indexOf.call(header.parentNode.children, header);
                var numeric = header.getAttribute("data-sort") === "number";
                var descending = header.getAttribute("aria-sort") !== "descending";
                headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
                header.setAttribute("aria-sort", descending ? "descending" : "ascending");
                rows.sort(function (a, b) {
                  var x = a.cells[index].getAttribute("data-value") || a.cells[index].textContent;
                  var y = b.cells[index].getAttribute("data-value") || b.cells[index].textContent;
                  var order;
                  if (numeric) {
                    var p = parseFloat(x), q = parseFloat(y);
                    if (isNaN(p)) { p = -Infinity; }
                    if (isNaN(q)) { q = -Infinity; }
                    order = p - q;
                  } else {
                    order = x.localeCompare(y);
                  }
                  return descending ? -order : order;
                });
                rows.forEach(function (row) { body.appendChild(row); });
              });
            });
          });
        });
        """
}
