/* The job page: live progress over the websocket ws/jobs/<id>/. The server sends the current
   state first, then every change; this file only paints it. Reconnects with a growing delay. */
(function () {
  "use strict";

  var gettext = window.gettext || function (s) { return s; };
  var fmt = window.interpolate || function (s, o) {
    return s.replace(/%\((\w+)\)s/g, function (_, k) { return o[k]; });
  };
  var root = document.getElementById("job");
  if (!root || !window.WebSocket) { return; }

  function field(name) { return root.querySelector('[data-field="' + name + '"]'); }
  /* Some fields are absent on purpose (a video job shows no steps, speed or losses). */
  function setText(name, text) {
    var el = field(name);
    if (el) { el.textContent = text; }
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return "—"; }
    var s = Math.round(seconds);
    if (s < 60) { return fmt(gettext("%(n)s s"), { n: s }, true); }
    if (s < 3600) { return fmt(gettext("%(n)s min"), { n: Math.round(s / 60) }, true); }
    return fmt(gettext("%(h)s h %(m)s min"), { h: Math.floor(s / 3600), m: Math.round((s % 3600) / 60) }, true);
  }

  function paint(m) {
    if (m.job !== root.dataset.job) { return; }
    var pill = field("state_label");
    pill.textContent = m.state_label;
    pill.className = "status-pill status-pill--" + m.state;
    root.dataset.state = m.state;
    if (m.message) { field("message").textContent = m.message; }
    var error = field("error");
    error.textContent = m.error || "";
    error.hidden = !m.error;
    var bar = document.getElementById("job-progress");
    bar.max = m.total || 1;
    bar.value = m.step;
    bar.textContent = Math.round(m.percent) + "%";
    setText("steps", fmt(gettext("step %(step)s of %(total)s"), { step: m.step, total: m.total }, true));
    field("eta").textContent = m.state === "running" ? duration(m.eta_seconds) : "—";
    setText("speed", m.images_per_second ? fmt(gettext("%(n)s images/s"), { n: m.images_per_second }, true) : "—");
    var losses = Object.keys(m.losses || {}).map(function (k) { return k + " " + m.losses[k]; });
    setText("losses", losses.length ? losses.join(", ") : "—");
    var kept = (m.result || {}).kept;
    setText("kept", kept ? fmt(gettext("step %(step)s (%(percent)s of its test samples showed the person)"), { step: kept.step, percent: kept.percent + "%" }, true) : "—");
    var caption = field("sample_caption");
    if (caption && kept && m.state === "succeeded" && kept.step === m.result.sample_step) { caption.textContent = caption.dataset.keptCaption; }
    setText("attempts", m.attempts);
    var queued = m.state === "queued" && m.queue_position;
    root.querySelectorAll("[data-queued]").forEach(function (el) { el.hidden = !queued; });
    if (queued) {
      field("queue_position").textContent = m.queue_position;
      var wait = m.estimated_start_seconds;
      field("estimated_start").textContent = wait === null || wait === undefined
        ? gettext("not known yet")
        : (wait < 5 ? gettext("now") : fmt(gettext("in about %(when)s"), { when: duration(wait) }, true));
    }
    var img = field("sample");
    // AI-made pictures are not shown to a member who chose not to see them (gentle viewing).
    var gentleOff = img && img.closest("figure").dataset.gentle === "off";
    if (!gentleOff && m.sample_url && img.getAttribute("src") !== m.sample_url) {
      img.src = m.sample_url;
      img.closest("figure").hidden = false;
    }
    var active = m.state === "queued" || m.state === "running";
    root.querySelectorAll("[data-show-when]").forEach(function (form) {
      var want = form.dataset.showWhen;
      form.hidden = want === "cancellable" ? !(active && !m.cancel_requested) : !(m.state === "failed" || m.state === "cancelled");
    });
    var list = field("photos");
    (m.photos || []).forEach(function (p) {
      if (!list || list.dataset.gentle === "off" || list.querySelector('[data-photo="' + p.id + '"]')) { return; }
      var li = document.createElement("li");
      li.dataset.photo = p.id;
      var a = document.createElement("a");
      a.href = p.url;
      var img = document.createElement("img");
      img.src = p.src;
      img.alt = p.caption || gettext("Generated photo");
      img.width = 128;
      a.appendChild(img);
      var pill = document.createElement("span");
      pill.className = "status-pill";
      pill.textContent = list.dataset.aiLabel;
      li.appendChild(a);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(pill);
      list.appendChild(li);
    });
    // Only on a restoring job's page, and only for those who see AI-made photos (the link is
    // absent otherwise): the restored copy, as soon as the job has stored it.
    var restored = field("restored");
    if (restored && m.result && m.result.photo_url && restored.hidden) {
      restored.href = m.result.photo_url;
      restored.hidden = false;
    }
    var model = field("model");
    if (m.result && m.result.model_version && model.hidden) {
      model.href = m.url.replace(/jobs\/[^/]+\/$/, "models/" + m.result.model_version + "/");
      model.hidden = false;
    }
  }

  var delay = 1000;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + root.dataset.ws);
    socket.onopen = function () { delay = 1000; root.dataset.live = "1"; };
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

/* The "Train a model" form: the estimated duration follows the chosen quality and time budget.
   The server sends its parts (preparation, queue wait, each preset's training time from the
   measured throughput); this adds them up as estimate.py's Estimate.total does. */
(function () {
  "use strict";

  var gettext = window.gettext || function (s) { return s; };
  var ngettext = window.ngettext || function (s, p, n) { return n === 1 ? s : p; };
  var fmt = window.interpolate || function (s, o) {
    return s.replace(/%\((\w+)\)s/g, function (_, k) { return o[k]; });
  };
  var form = document.getElementById("train-form");
  var source = document.getElementById("train-estimate-data");
  if (!form || !source) { return; }
  var data = JSON.parse(source.textContent);
  var box = document.getElementById("train-estimate");

  function minutes(seconds) {
    if (seconds < 60) { return gettext("less than a minute"); }
    var n = Math.max(1, Math.round(seconds / 60));
    if (n < 120) { return fmt(ngettext("about %(n)s minute", "about %(n)s minutes", n), { n: n }, true); }
    var h = Math.round(n / 6) / 10;
    return fmt(gettext("about %(n)s hours"), { n: h }, true);
  }

  function paint() {
    var chosen = form.querySelector('input[name="preset"]:checked');
    var budget = form.querySelector('[name="budget"]');
    var preset = data.presets[chosen ? chosen.value : "quick"];
    if (!preset || !budget) { return; }
    if (data.known === false) { return; }  /* the server's text: not known until it measured itself */
    var training = Math.min(preset.training_seconds, Number(budget.value) * 60);
    var wait = data.wait_seconds;
    box.querySelector('[data-estimate="total"]').textContent = minutes(data.prepare_seconds + (wait || 0) + training);
    var parts = [
      fmt(gettext("preparing the photos: %(t)s"), { t: minutes(data.prepare_seconds) }, true),
      wait === null ? gettext("waiting for its turn: not known yet") : fmt(gettext("waiting for its turn: %(t)s"), { t: minutes(wait) }, true),
      fmt(gettext("training: %(t)s"), { t: minutes(training) }, true)
    ];
    var speed = preset.source === "runs"
      ? fmt(gettext("measured on this server: %(n)s images/s"), { n: preset.images_per_second }, true)
      : preset.source === "worker"
        ? fmt(gettext("this server's own speed test: %(n)s images/s"), { n: preset.images_per_second }, true)
        : fmt(gettext("a typical speed until a training run has finished here: %(n)s images/s"), { n: preset.images_per_second }, true);
    box.querySelector('[data-estimate="detail"]').textContent = parts.join(" · ") + " (" + speed + ")";
    box.dataset.seconds = String(Math.round(data.prepare_seconds + (wait || 0) + training));
  }

  form.addEventListener("change", paint);
  paint();
}());
