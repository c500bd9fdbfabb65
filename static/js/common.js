/* Shared helpers for every page: CSRF, JSON calls to the API, copy buttons, confirmations,
   and the inline caption editor used by the gallery and the upload page. No build step. */
(function () {
  "use strict";

  var gettext = window.gettext || function (s) { return s; };
  var fmt = window.interpolate || function (s, o) {
    return s.replace(/%\((\w+)\)s/g, function (_, k) { return o[k]; });
  };

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* The server's words when it gave any ({"detail": ...}), else a plain fallback. */
  function errorMessage(xhrStatus, body) {
    if (body && typeof body.detail === "string" && body.detail) { return body.detail; }
    if (body && typeof body === "object") {
      for (var key in body) {
        if (Object.prototype.hasOwnProperty.call(body, key)) {
          var value = body[key];
          if (Array.isArray(value) && value.length) { return String(value[0]); }
          if (typeof value === "string") { return value; }
        }
      }
    }
    if (xhrStatus === 0) { return gettext("The connection was interrupted. Please try again."); }
    if (xhrStatus === 413) { return gettext("The file is too large."); }
    if (xhrStatus === 403) { return gettext("You are not allowed to do this."); }
    return fmt(gettext("Something went wrong (error %(status)s). Please try again."), { status: xhrStatus }, true);
  }

  /* options.keepalive: the request outlives the page (sent while the page is being left). */
  function patchPhoto(photoApiBase, photoId, fields, options) {
    return fetch(photoApiBase + encodeURIComponent(photoId) + "/", {
      method: "PATCH",
      credentials: "same-origin",
      keepalive: !!(options && options.keepalive),
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken(),
        "X-Requested-With": "XMLHttpRequest"
      },
      body: JSON.stringify(fields)
    }).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
        if (!response.ok) { throw new Error(errorMessage(response.status, body)); }
        return body || {};
      });
    }, function () {
      throw new Error(errorMessage(0, null));
    });
  }

  /* Save a caption input on Enter or when it loses focus; show Saving… / Saved / the error.
     With options.asTyped it is also saved after a short pause in typing, and what is not
     saved yet is sent (keepalive) when the page is left, so no typed caption is lost.
     options: {photoApi, photoId, indicator, asTyped, onSaved(caption), onUnchanged(), onCancel(), ignoreBlurFrom} */
  function bindCaptionInput(input, options) {
    var saved = input.value;
    var saving = false;
    var indicator = options.indicator;

    function show(text, isError) {
      if (!indicator) { return; }
      indicator.textContent = text;
      indicator.classList.toggle("saved-indicator--error", !!isError);
      input.setAttribute("aria-invalid", isError ? "true" : "false");
    }

    function save() {
      var value = input.value.trim();
      if (saving) { return Promise.resolve(false); }
      if (value === saved.trim()) {
        if (options.onUnchanged) { options.onUnchanged(); }
        return Promise.resolve(true);
      }
      saving = true;
      input.dataset.state = "saving";
      show(gettext("Saving…"), false);
      return patchPhoto(options.photoApi, options.photoId, { caption: value }).then(function (photo) {
        saving = false;
        saved = typeof photo.caption === "string" ? photo.caption : value;
        input.value = saved;
        input.dataset.state = "saved";
        input.dataset.saved = "true";
        show(gettext("Saved"), false);
        if (options.onSaved) { options.onSaved(saved); }
        return true;
      }, function (error) {
        saving = false;
        input.dataset.state = "error";
        show(error.message, true);
        return false;
      });
    }

    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        save();
      } else if (event.key === "Escape" && options.onCancel) {
        event.preventDefault();
        input.value = saved;
        options.onCancel();
      }
    });
    var timer = null;
    input.addEventListener("input", function () {
      if (input.dataset.state === "saved" || input.dataset.state === "error") { show("", false); }
      input.dataset.state = "editing";
      if (options.asTyped) {
        clearTimeout(timer);
        timer = setTimeout(save, 700);
      }
    });
    if (options.asTyped) {
      window.addEventListener("pagehide", function () {
        var value = input.value.trim();
        if (saving || value === saved.trim()) { return; }
        patchPhoto(options.photoApi, options.photoId, { caption: value }, { keepalive: true });
      });
    }
    input.addEventListener("blur", function (event) {
      if (options.ignoreBlurFrom && event.relatedTarget === options.ignoreBlurFrom) { return; }
      save();
    });
    return { save: save };
  }

  function bindCopyButtons(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        var status = button.parentElement.querySelector(".copy-status");
        if (!source) { return; }
        function done(ok) {
          if (status) { status.textContent = ok ? gettext("Link copied") : gettext("Select the link and copy it"); }
        }
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(source.value).then(function () { done(true); }, function () {
            source.select(); done(false);
          });
        } else {
          source.select();
          var ok = false;
          try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
          done(ok);
        }
      });
    });
  }

  function bindConfirmForms(root) {
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  window.Memorial = {
    gettext: gettext,
    ngettext: window.ngettext || function (s, p, n) { return n === 1 ? s : p; },
    fmt: fmt,
    csrfToken: csrfToken,
    errorMessage: errorMessage,
    patchPhoto: patchPhoto,
    bindCaptionInput: bindCaptionInput
  };

  /* A video's shown length follows its player's, formatted as the player does (m:ss, cut). */
  function bindVideoLengths(root) {
    root.querySelectorAll("figure[data-video] video").forEach(function (video) {
      var id = video.closest("figure").getAttribute("data-video");
      function paint() {
        if (!isFinite(video.duration)) { return; }
        var s = Math.floor(video.duration);
        var text = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
        root.querySelectorAll('[data-video-length="' + id + '"]').forEach(function (el) { el.textContent = text; });
      }
      video.addEventListener("loadedmetadata", paint);
      video.addEventListener("durationchange", paint);
      if (video.readyState >= 1) { paint(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    bindVideoLengths(document);
    bindCopyButtons(document);
    bindConfirmForms(document);
  });
})();
