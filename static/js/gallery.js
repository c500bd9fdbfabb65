/* Gallery: the photo viewer (arrow keys, Escape, focus kept inside and given back) and
   inline caption editing for contributors and owners. Captions are set with textContent,
   never as HTML. Without script, tiles link to each photo's page, which has an edit form. */
(function () {
  "use strict";

  var M = window.Memorial;
  var gettext = M.gettext;
  var grid = document.getElementById("photo-grid");
  if (!grid) { return; }
  var live = document.getElementById("gallery-live");
  var PHOTO_API = "/api/photos/";

  function tiles() { return Array.prototype.slice.call(grid.querySelectorAll(".photo-tile")); }
  function announce(text) { if (live) { live.textContent = text; } }

  /* ---------- Viewer ---------- */
  var dialog = document.getElementById("lightbox");
  var image = document.getElementById("lightbox-image");
  var caption = document.getElementById("lightbox-caption");
  var badge = document.getElementById("lightbox-badge");
  var counter = document.getElementById("lightbox-counter");
  var pageLink = document.getElementById("lightbox-page");
  var current = 0;
  var opener = null;
  var canModal = dialog && typeof dialog.showModal === "function";

  function preload(index) {
    var list = tiles();
    var tile = list[(index + list.length) % list.length];
    if (tile) { (new Image()).src = tile.dataset.displayUrl; }
  }

  function show(index) {
    var list = tiles();
    if (!list.length) { return; }
    current = (index + list.length) % list.length;
    var tile = list[current];
    image.src = tile.dataset.displayUrl;
    image.alt = tile.dataset.alt || "";
    image.title = tile.dataset.alt || "";
    caption.textContent = tile.dataset.caption || gettext("No caption yet");
    caption.classList.toggle("muted", !tile.dataset.caption);
    badge.hidden = tile.dataset.generated !== "true";
    pageLink.href = tile.dataset.pageUrl;
    counter.textContent = M.fmt(gettext("Photo %(number)s of %(total)s"), {
      number: current + 1, total: list.length
    }, true);
    if (list.length > 1) { preload(current + 1); preload(current - 1); }
  }

  function open(index, from) {
    opener = from || document.activeElement;
    show(index);
    dialog.showModal();
    dialog.querySelector("[data-lightbox-close]").focus();
  }

  function close() { if (dialog.open) { dialog.close(); } }

  function focusables() {
    return Array.prototype.slice.call(dialog.querySelectorAll(
      "button:not([disabled]), a[href], [tabindex]:not([tabindex='-1'])"
    )).filter(function (el) { return el.offsetParent !== null || el === document.activeElement; });
  }

  if (canModal) {
    grid.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-lightbox]");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || event.button !== 0) {
        return;
      }
      event.preventDefault();
      open(tiles().indexOf(link.closest(".photo-tile")), link);
    });

    dialog.addEventListener("keydown", function (event) {
      if (event.key === "ArrowRight") { event.preventDefault(); show(current + 1); }
      else if (event.key === "ArrowLeft") { event.preventDefault(); show(current - 1); }
      else if (event.key === "Escape") { event.preventDefault(); close(); }
      else if (event.key === "Tab") {
        var items = focusables();
        if (!items.length) { return; }
        var first = items[0];
        var last = items[items.length - 1];
        if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
        else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
      }
    });
    dialog.addEventListener("close", function () {
      image.src = "data:,";
      if (opener && document.contains(opener)) { opener.focus(); }
      opener = null;
    });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) { close(); } // a click on the dim backdrop
    });
    dialog.querySelector("[data-lightbox-close]").addEventListener("click", close);
    dialog.querySelector("[data-lightbox-prev]").addEventListener("click", function () { show(current - 1); });
    dialog.querySelector("[data-lightbox-next]").addEventListener("click", function () { show(current + 1); });
  }

  /* ---------- Inline captions ---------- */
  function updateTile(tile, text) {
    var generated = tile.dataset.generated === "true";
    var alt;
    if (generated) {
      alt = text ? M.fmt(gettext("AI-generated image: %(caption)s"), { caption: text }, true)
        : gettext("AI-generated image without a caption");
    } else {
      alt = text || gettext("Photo without a caption");
    }
    tile.dataset.caption = text;
    tile.dataset.alt = alt;
    var img = tile.querySelector(".photo-tile__link img");
    img.alt = alt;
    img.title = alt;
    var p = tile.querySelector("[data-caption-text]");
    p.textContent = text || gettext("No caption yet");
    p.classList.toggle("caption-text--empty", !text);
    tile.classList.toggle("photo-tile--uncaptioned", !text);
    var edit = tile.querySelector("[data-caption-edit]");
    edit.textContent = text ? gettext("Edit caption") : gettext("Add a caption");
    edit.setAttribute("aria-label", edit.textContent + ": " + alt);
  }

  function openEditor(tile) {
    if (tile.querySelector(".caption-form")) { return; }
    var id = tile.dataset.photoId;
    var text = tile.querySelector("[data-caption-text]");
    var edit = tile.querySelector("[data-caption-edit]");
    var wasEmpty = !tile.dataset.caption;

    var form = document.createElement("form");
    form.className = "caption-form";
    form.noValidate = true;
    var label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = "caption-" + id;
    label.textContent = gettext("Caption");
    var input = document.createElement("input");
    input.type = "text";
    input.id = "caption-" + id;
    input.className = "caption-input";
    input.maxLength = 1000;
    input.value = tile.dataset.caption || "";
    input.dataset.photoId = id;
    input.setAttribute("aria-describedby", "caption-hint-" + id + " caption-status-" + id);
    var actions = document.createElement("div");
    actions.className = "caption-form__actions";
    var button = document.createElement("button");
    button.type = "submit";
    button.className = "button button--small";
    button.textContent = gettext("Save");
    var status = document.createElement("span");
    status.className = "saved-indicator";
    status.id = "caption-status-" + id;
    status.setAttribute("aria-live", "polite");
    var hint = document.createElement("span");
    hint.className = "visually-hidden";
    hint.id = "caption-hint-" + id;
    hint.textContent = gettext("Press Enter to save or Escape to cancel.");
    actions.appendChild(button);
    actions.appendChild(status);
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(hint);
    form.appendChild(actions);

    var finished = false;
    function finish() {
      if (finished) { return; }  // removing the focused field fires blur, which saves again
      finished = true;
      form.remove();
      text.hidden = false;
      edit.hidden = false;
      edit.focus();
    }

    var editor = M.bindCaptionInput(input, {
      photoApi: PHOTO_API,
      photoId: id,
      indicator: status,
      ignoreBlurFrom: button,
      onSaved: function (value) {
        updateTile(tile, value);
        announce(gettext("Caption saved"));
        if (wasEmpty && value) { adjustNeedsCaption(-1); }
        if (!wasEmpty && !value) { adjustNeedsCaption(1); }
        wasEmpty = !value;
        finish();
      },
      onUnchanged: finish,
      onCancel: finish
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); editor.save(); });

    text.hidden = true;
    edit.hidden = true;
    text.parentNode.insertBefore(form, text);
    input.focus();
  }

  function adjustNeedsCaption(delta) {
    var counterLink = document.querySelector("[data-needs-caption]");
    if (!counterLink) { return; }
    var n = Math.max(0, parseInt(counterLink.dataset.needsCaption, 10) + delta);
    counterLink.dataset.needsCaption = String(n);
    counterLink.textContent = n
      ? M.fmt(window.ngettext ? window.ngettext("%(count)s photo still needs a caption.",
          "%(count)s photos still need a caption.", n) : "%(count)s", { count: n }, true)
      : gettext("Every photo has a caption.");
  }

  if (grid.dataset.canEdit === "true") {
    grid.addEventListener("click", function (event) {
      var edit = event.target.closest("[data-caption-edit]");
      if (!edit) { return; }
      event.preventDefault();
      openEditor(edit.closest(".photo-tile"));
    });
  }
})();
