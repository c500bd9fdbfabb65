/* The staff queue monitor: repaints the queue figures and the worker table from the websocket
   ws/staff/queues/ (the server sends a snapshot on connect and every few seconds). */
(function () {
  "use strict";

  var gettext = window.gettext || function (s) { return s; };
  var fmt = window.interpolate || function (s, o) {
    return s.replace(/%\((\w+)\)s/g, function (_, k) { return o[k]; });
  };
  var root = document.getElementById("monitor");
  if (!root || !window.WebSocket) { return; }

  function cell(text, href) {
    var td = document.createElement("td");
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = text;
      td.appendChild(a);
    } else {
      td.textContent = text;
    }
    return td;
  }

  function paint(m) {
    if (m.type !== "queues") { return; }
    m.queues.forEach(function (q) {
      var row = root.querySelector('tr[data-queue="' + q.name + '"]');
      if (!row) { return; }
      ["queued", "running", "failed"].forEach(function (k) {
        row.querySelector('[data-field="' + k + '"]').textContent = q[k];
      });
      row.querySelector('[data-field="paused"]').textContent = q.paused ? gettext("yes") : gettext("no");
      row.dataset.paused = q.paused ? "1" : "0";
      row.querySelectorAll("[data-when]").forEach(function (button) {
        button.hidden = (button.dataset.when === "paused") !== q.paused;
      });
    });
    var body = root.querySelector('[data-field="workers"]');
    body.textContent = "";
    m.workers.forEach(function (w) {
      var tr = document.createElement("tr");
      tr.dataset.worker = w.name;
      tr.dataset.online = w.online ? "1" : "0";
      tr.appendChild(cell(w.name));
      tr.appendChild(cell(w.host));
      tr.appendChild(cell(w.online ? gettext("online") : gettext("lost")));
      tr.appendChild(cell(fmt(gettext("%(n)s s ago"), { n: w.age }, true)));
      tr.appendChild(cell(w.gpus.length ? w.gpus.map(function (g) {
        return g.name + " (" + Math.round(g.memory_used_bytes / 1048576) + " / " + Math.round(g.memory_total_bytes / 1048576) + " MiB)";
      }).join(", ") : "—"));
      var use = cell(w.gpus.length ? w.gpus.map(function (g) {
        return g.utilisation === null || g.utilisation === undefined ? "—" : Math.round(g.utilisation * 100) + " %";
      }).join(", ") : "—");
      use.dataset.field = "utilisation";
      tr.appendChild(use);
      tr.appendChild(w.job ? cell(w.job.kind_label + " " + w.job.percent + "%", w.job.url) : cell("—"));
      body.appendChild(tr);
    });
    root.dataset.live = "1";
  }

  var delay = 1000;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + root.dataset.ws);
    socket.onopen = function () { delay = 1000; };
    socket.onmessage = function (event) { paint(JSON.parse(event.data)); };
    socket.onclose = function (event) {
      root.dataset.live = "0";
      if (event.code === 4403) { return; }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
}());
