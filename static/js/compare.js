/* Before/after comparison of a restored photo: the restored picture is clipped from the left by
 * the slider's value, so the original shows on the left and the restored copy on the right. The
 * slider is a native range input: arrow keys, Page Up/Down, Home and End move it, and its label and
 * value text are read by screen readers. */
(function () {
  "use strict";
  const gettext = window.gettext || ((s) => s);
  const fmt = window.interpolate || ((s, o) => s.replace(/%\((\w+)\)s/g, (_m, k) => o[k]));
  const said = (n) => fmt(gettext("Original on the left: %(n)s percent"), { n: n }, true);
  document.querySelectorAll("[data-compare]").forEach((box) => {
    const range = box.querySelector("[data-compare-range]");
    const after = box.querySelector(".compare__after");
    const show = () => {
      after.style.clipPath = `inset(0 0 0 ${range.value}%)`;
      range.setAttribute("aria-valuetext", said(range.value));
    };
    range.addEventListener("input", show);
    show();
  });
})();
