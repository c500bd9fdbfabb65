/* The caption editor: every caption box saves itself as it is typed (a short pause after the
   last key), on leaving the box and when the page is left (a keepalive request). Enter saves
   and moves to the next photo, Shift+Enter to the one before. A failed save says why and is
   sent again on the next change or Enter; the same caption sent twice changes nothing.

   Stable hooks for browser tests: #caption-list > .caption-row[data-photo-id],
   .caption-box[data-state=editing|saving|saved|error], .caption-status, #selected-count,
   #select-all. */
(function () {
  "use strict";

  var M = window.Memorial;
  var gettext = M.gettext;
  var root = document.getElementById("captions");
  if (!root) { return; }
  var photoApi = root.dataset.photoApi;
  var boxes = Array.prototype.slice.call(root.querySelectorAll(".caption-box"));
  var PAUSE_MS = 700;

  function bind(box) {
    var saved = box.value.trim();
    var timer = null;
    var inFlight = null;
    var status = document.getElementById("caption-status-" + box.dataset.photoId);
    var row = box.closest(".caption-row");

    function show(text, state) {
      box.dataset.state = state;
      status.textContent = text;
      status.classList.toggle("saved-indicator--error", state === "error");
      box.setAttribute("aria-invalid", state === "error" ? "true" : "false");
    }

    function save() {
      clearTimeout(timer);
      var value = box.value.trim();
      if (inFlight) {  // one request at a time; the newest text is sent when it ends
        return inFlight.then(save);
      }
      if (value === saved) {
        if (box.dataset.state === "editing") { show(gettext("Saved"), "saved"); }
        return Promise.resolve(true);
      }
      show(gettext("Saving…"), "saving");
      inFlight = M.patchPhoto(photoApi, box.dataset.photoId, { caption: value }).then(function (photo) {
        inFlight = null;
        saved = typeof photo.caption === "string" ? photo.caption : value;
        row.classList.toggle("caption-row--empty", saved === "");
        if (box.value.trim() === saved) { show(gettext("Saved"), "saved"); }
        return true;
      }, function (error) {
        inFlight = null;
        show(error.message, "error");
        return false;
      });
      return inFlight;
    }

    function flush() {  // the page is being left: send what is not saved yet, without waiting
      var value = box.value.trim();
      if (value === saved || inFlight) { return; }
      M.patchPhoto(photoApi, box.dataset.photoId, { caption: value }, { keepalive: true });
    }

    function move(step) {
      var next = boxes[boxes.indexOf(box) + step];
      if (next) {
        next.focus();
        next.scrollIntoView({ block: "center" });
      }
    }

    box.addEventListener("input", function () {
      show("", "editing");
      clearTimeout(timer);
      timer = setTimeout(save, PAUSE_MS);
    });
    box.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.isComposing || event.altKey || event.ctrlKey || event.metaKey) { return; }
      event.preventDefault();
      save();
      move(event.shiftKey ? -1 : 1);
    });
    box.addEventListener("blur", function () { save(); });
    window.addEventListener("pagehide", flush);
  }

  boxes.forEach(bind);

  var checks = Array.prototype.slice.call(root.querySelectorAll(".caption-select"));
  var count = document.getElementById("selected-count");
  var selectAll = document.getElementById("select-all");

  var shared = document.getElementById("shared-details");

  function updateCount() {
    var n = checks.filter(function (c) { return c.checked; }).length;
    count.dataset.count = String(n);
    count.textContent = M.fmt(M.ngettext("%(count)s photo selected.", "%(count)s photos selected.", n), { count: n }, true);
    // The shared details appear, pinned to the bottom of the window, once a photo is ticked:
    // until then the page is the list of captions (and errors stay in view).
    if (shared) { shared.hidden = n === 0 && !shared.hasAttribute("data-errors"); }
  }
  updateCount();

  // Typing starts at once: the first photo still without a caption has the focus.
  if (!window.location.hash && boxes.length && document.activeElement === document.body) {
    var firstEmpty = boxes.filter(function (b) { return !b.value.trim(); })[0] || boxes[0];
    firstEmpty.focus();
  }

  checks.forEach(function (c) { c.addEventListener("change", updateCount); });
  if (selectAll && checks.length) {
    selectAll.hidden = false;
    selectAll.addEventListener("click", function () {
      var all = checks.every(function (c) { return c.checked; });
      checks.forEach(function (c) { c.checked = !all; });
      updateCount();
    });
  }
})();
