/* A video job's page: when jobs.js paints the job as finished (data-state on #job), ask the API
   for the job's result and show the "Watch the video" link. No polling, no own websocket. */
(function () {
  "use strict";

  var holder = document.getElementById("job-video");
  var job = document.getElementById("job");
  if (!holder || !job) { return; }
  var link = holder.querySelector("[data-video-link]");
  var asked = false;

  function reveal() {
    if (asked || !link.hidden) { return; }
    asked = true;
    fetch(holder.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        var url = data && data.result && data.result.video_url;
        if (url) {
          link.href = url;
          link.hidden = false;
        } else {
          asked = false;
        }
      })
      .catch(function () { asked = false; });
  }

  function check() {
    if (job.dataset.state === "succeeded") { reveal(); }
  }

  new MutationObserver(check).observe(job, { attributes: true, attributeFilter: ["data-state"] });
  check();
}());
