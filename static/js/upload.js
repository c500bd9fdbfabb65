/* Upload page: files from the picker or dropped on #dropzone are sent to the JSON API,
   a few at a time, each with its own <progress> and status; a failure never stops the
   others. Once a photo is stored, a caption field appears for it (saved as typed, on Enter,
   on blur and when the page is left).

   Stable hooks for browser tests: #dropzone, #file-input, #attested, #overall-progress,
   #upload-list > .upload-row[data-state=queued|uploading|done|error][data-photo-id],
   .upload-row progress, .upload-row .status, .upload-row .caption-input,
   .upload-row .caption-status, #upload-summary, #upload-done. */
(function () {
  "use strict";

  var M = window.Memorial;
  var gettext = M.gettext;
  var root = document.getElementById("upload");
  if (!root) { return; }
  document.documentElement.classList.add("js");

  var form = document.getElementById("upload-form");
  var input = document.getElementById("file-input");
  var dropzone = document.getElementById("dropzone");
  var attested = document.getElementById("attested");
  var attestError = document.getElementById("attested-error");
  var attestBox = document.getElementById("attestation");
  var tagsInput = document.getElementById("upload-tags");
  var section = document.getElementById("upload-progress");
  var list = document.getElementById("upload-list");
  var overall = document.getElementById("overall-progress");
  var summary = document.getElementById("upload-summary");
  var doneBox = document.getElementById("upload-done");
  var live = document.getElementById("upload-live");

  var apiUrl = root.dataset.apiUrl;
  var photoApi = root.dataset.photoApi;
  var galleryUrl = root.dataset.galleryUrl;
  var maxBytes = parseInt(root.dataset.maxBytes, 10) || 0;
  var concurrency = parseInt(root.dataset.concurrency, 10) || 3;

  var items = [];     // every file of this visit, in order
  var waiting = [];   // not started yet
  var active = 0;
  var nextId = 0;

  function announce(text) { live.textContent = text; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function formatSize(bytes) {
    var mb = 1024 * 1024;
    return bytes >= mb ? (bytes / mb).toFixed(1) + " MB" : Math.max(1, Math.round(bytes / 1024)) + " kB";
  }

  function makeRow(file) {
    var item = { key: "u" + (nextId++), file: file, loaded: 0, state: "queued", photo: null };
    var row = el("li", "upload-row");
    row.dataset.state = "queued";
    row.dataset.fileName = file.name;
    row.id = "upload-" + item.key;
    var thumb = el("span", "upload-row__thumb");
    var name = el("span", "upload-row__name", file.name);
    name.title = file.name + " (" + formatSize(file.size) + ")";
    var progress = el("progress", "upload-row__progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", M.fmt(gettext("Upload progress for %(name)s"), { name: file.name }, true));
    var status = el("span", "status", gettext("Waiting…"));
    row.appendChild(thumb);
    row.appendChild(name);
    row.appendChild(progress);
    row.appendChild(status);
    list.appendChild(row);
    item.row = row;
    item.thumb = thumb;
    item.progress = progress;
    item.status = status;
    return item;
  }

  function setState(item, state, message) {
    item.state = state;
    item.row.dataset.state = state;
    if (message !== undefined) { item.status.textContent = message; }
  }

  function updateOverall() {
    var total = 0;
    var loaded = 0;
    var done = 0;
    var failed = 0;
    items.forEach(function (item) {
      var size = Math.max(item.file.size, 1);
      total += size;
      if (item.state === "done" || item.state === "error") {
        loaded += size;
      } else {
        loaded += Math.min(item.loaded, size * 0.99);
      }
      if (item.state === "done") { done += 1; }
      if (item.state === "error") { failed += 1; }
    });
    var finished = done + failed === items.length && items.length > 0;
    overall.value = finished ? 100 : (total ? Math.min(99, Math.floor((loaded / total) * 100)) : 0);
    overall.textContent = overall.value + " %";
    var text = M.fmt(gettext("%(done)s of %(total)s uploaded."), { done: done, total: items.length }, true);
    if (failed) {
      text += " " + M.fmt(window.ngettext ? window.ngettext("%(failed)s could not be uploaded.",
        "%(failed)s could not be uploaded.", failed) : "%(failed)s", { failed: failed }, true);
    }
    if (summary.textContent !== text) { summary.textContent = text; }  // no repeats for screen readers
    if (finished) {
      doneBox.hidden = done === 0;
      window.removeEventListener("beforeunload", warnBeforeLeaving);
      if (done) {
        announce(text + " " + gettext("Please add a caption to each photo."));
      } else {
        announce(text);
      }
    }
  }

  function warnBeforeLeaving(event) {
    event.preventDefault();
    event.returnValue = "";
  }

  function addCaptionEditor(item, photo) {
    var box = el("div", "upload-row__caption");
    var id = "caption-" + photo.id;
    var label = el("label", "", gettext("Caption"));
    label.htmlFor = id;
    var line = el("div", "upload-row__caption-line");
    var field = el("input", "caption-input");
    field.type = "text";
    field.id = id;
    field.maxLength = 1000;
    field.value = photo.caption || "";
    field.dataset.photoId = photo.id;
    field.placeholder = gettext("For example: laughing at a birthday party, wearing a red sweater");
    field.setAttribute("aria-describedby", "caption-status-" + photo.id);
    var saved = el("span", "saved-indicator caption-status");
    saved.id = "caption-status-" + photo.id;
    saved.setAttribute("aria-live", "polite");
    line.appendChild(field);
    line.appendChild(saved);
    box.appendChild(label);
    box.appendChild(line);
    item.row.appendChild(box);
    M.bindCaptionInput(field, { photoApi: photoApi, photoId: photo.id, indicator: saved, asTyped: true });
  }

  function succeed(item, photo) {
    item.photo = photo;
    item.row.dataset.photoId = photo.id;
    item.progress.value = 100;
    setState(item, "done", "✓ " + gettext("Uploaded"));
    if (photo.urls && photo.urls.thumb) {
      var img = el("img");
      img.src = photo.urls.thumb;
      img.alt = "";
      item.thumb.appendChild(img);
    }
    addCaptionEditor(item, photo);
  }

  function fail(item, message, retryable, existing) {
    setState(item, "error", "✗ " + message);
    if (existing) {
      var link = el("a", "upload-row__existing", gettext("See the photo that is already here"));
      link.href = galleryUrl + "photos/" + encodeURIComponent(existing) + "/";
      item.status.appendChild(document.createTextNode(" "));
      item.status.appendChild(link);
    }
    if (retryable) {
      var retry = el("button", "button button--small upload-row__retry", gettext("Try again"));
      retry.type = "button";
      retry.addEventListener("click", function () {
        retry.remove();
        item.loaded = 0;
        item.progress.value = 0;
        setState(item, "queued", gettext("Waiting…"));
        waiting.push(item);
        window.addEventListener("beforeunload", warnBeforeLeaving);
        updateOverall();
        pump();
      });
      item.status.appendChild(document.createTextNode(" "));
      item.status.appendChild(retry);
    }
  }

  function send(item) {
    active += 1;
    setState(item, "uploading", gettext("Uploading…"));
    if (maxBytes && item.file.size > maxBytes) {
      finishOne(item, function () {
        fail(item, M.fmt(gettext("The file is larger than %(limit)s MB."), { limit: Math.round(maxBytes / (1024 * 1024)) }, true));
      });
      return;
    }
    var data = new FormData();
    data.append("file", item.file, item.file.name);
    data.append("attested", "true");
    if (tagsInput && tagsInput.value.trim()) { data.append("tags", tagsInput.value.trim()); }

    var xhr = new XMLHttpRequest();
    xhr.open("POST", apiUrl);
    xhr.setRequestHeader("X-CSRFToken", M.csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) { return; }
      item.loaded = item.file.size * (event.loaded / event.total);
      // 100 is kept for "stored": the server still checks and saves after the last byte.
      item.progress.value = Math.min(99, Math.floor((event.loaded / event.total) * 100));
      updateOverall();
    });
    xhr.addEventListener("load", function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      finishOne(item, function () {
        if (xhr.status === 201 || (xhr.status === 200 && body && body.id)) {
          succeed(item, body);
        } else {
          fail(item, M.errorMessage(xhr.status, body), xhr.status >= 500 || xhr.status === 429,
            xhr.status === 409 && body ? body.existing : null);
        }
      });
    });
    xhr.addEventListener("error", function () {
      finishOne(item, function () { fail(item, M.errorMessage(0, null), true); });
    });
    xhr.addEventListener("abort", function () {
      finishOne(item, function () { fail(item, gettext("The upload was cancelled."), true); });
    });
    xhr.send(data);
  }

  function finishOne(item, outcome) {
    active -= 1;
    try { outcome(); } finally {
      updateOverall();
      pump();
    }
  }

  function pump() {
    if (!attested.checked) { return; }
    while (active < concurrency && waiting.length) { send(waiting.shift()); }
  }

  function requireAttestation() {
    attestError.hidden = false;
    attestBox.classList.add("attestation--invalid");
    attested.setAttribute("aria-invalid", "true");
    attested.focus();
  }

  function addFiles(fileList) {
    var files = Array.prototype.slice.call(fileList || []);
    if (!files.length) { return; }
    section.hidden = false;
    doneBox.hidden = true;
    files.forEach(function (file) {
      var item = makeRow(file);
      items.push(item);
      waiting.push(item);
    });
    window.addEventListener("beforeunload", warnBeforeLeaving);
    updateOverall();
    announce(M.fmt(window.ngettext ? window.ngettext("%(count)s photo added.", "%(count)s photos added.",
      files.length) : "%(count)s", { count: files.length }, true));
    if (attested.checked) { pump(); } else { requireAttestation(); }
  }

  attested.addEventListener("change", function () {
    if (attested.checked) {
      attestError.hidden = true;
      attestBox.classList.remove("attestation--invalid");
      attested.setAttribute("aria-invalid", "false");
      pump();
    }
  });

  input.addEventListener("change", function () {
    addFiles(input.files);
    input.value = "";
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (input.files && input.files.length) { addFiles(input.files); input.value = ""; }
  });

  ["dragenter", "dragover"].forEach(function (type) {
    dropzone.addEventListener(type, function (event) {
      event.preventDefault();
      if (event.dataTransfer) { event.dataTransfer.dropEffect = "copy"; }
      dropzone.classList.add("dropzone--active");
    });
  });
  ["dragleave", "dragend"].forEach(function (type) {
    dropzone.addEventListener(type, function (event) {
      if (event.target === dropzone) { dropzone.classList.remove("dropzone--active"); }
    });
  });
  dropzone.addEventListener("drop", function (event) {
    event.preventDefault();
    dropzone.classList.remove("dropzone--active");
    addFiles(event.dataTransfer && event.dataTransfer.files);
  });
  // A file dropped beside the zone must not make the browser leave the page.
  window.addEventListener("dragover", function (event) { event.preventDefault(); });
  window.addEventListener("drop", function (event) { event.preventDefault(); });
})();
