/* Colour points on the restore page: a person clicks the photo to add a point there (or uses
 * "Add a colour point" and types where it is), picks its colour with a native colour input, and
 * can remove it. The list is the accessible form of the points (labelled inputs and buttons, in
 * tab order); the markers on the photo only show where they are. The points go to the server as
 * JSON in the form's hidden "hints" field, in the photo's own pixels; the server checks them. */
(function () {
  "use strict";
  const box = document.querySelector("[data-colour-points]");
  if (!box) return;
  const form = box.closest("form");
  const field = form.querySelector('input[name="hints"]');
  const photo = box.querySelector("[data-colour-photo]");
  const list = box.querySelector("[data-colour-list]");
  const template = box.querySelector("template[data-colour-item]");
  const add = box.querySelector("[data-colour-add]");
  const width = Number(box.dataset.width);
  const height = Number(box.dataset.height);
  const LIMIT = 20;

  const items = () => Array.from(list.children);

  function save() {
    const points = items().map((item) => ({
      x: Number(item.querySelector("[data-x]").value),
      y: Number(item.querySelector("[data-y]").value),
      colour: item.querySelector("[data-colour]").value,
    }));
    field.value = points.length ? JSON.stringify(points) : "";
    photo.querySelectorAll(".colour-points__marker").forEach((m) => m.remove());
    items().forEach((item, index) => {
      const point = points[index];
      const marker = document.createElement("span");
      marker.className = "colour-points__marker";
      marker.setAttribute("aria-hidden", "true");
      marker.textContent = String(index + 1);
      marker.style.left = `${(100 * point.x) / width}%`;
      marker.style.top = `${(100 * point.y) / height}%`;
      marker.style.background = point.colour;
      photo.appendChild(marker);
      item.querySelector("[data-name]").textContent = `${template.content.querySelector("[data-name]").textContent} ${index + 1}`;
    });
    add.disabled = points.length >= LIMIT;
  }

  function addPoint(x, y, colour, focus) {
    if (items().length >= LIMIT) return;
    const item = template.content.firstElementChild.cloneNode(true);
    item.querySelector("[data-x]").value = Math.round(x);
    item.querySelector("[data-y]").value = Math.round(y);
    if (colour) item.querySelector("[data-colour]").value = colour;
    item.querySelector("[data-remove]").addEventListener("click", () => {
      const next = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      save();
      (next ? next.querySelector("[data-colour]") : add).focus();
    });
    item.querySelectorAll("input").forEach((input) => input.addEventListener("input", save));
    list.appendChild(item);
    save();
    if (focus) item.querySelector(focus).focus();
  }

  photo.addEventListener("click", (event) => {
    const rect = photo.querySelector("img").getBoundingClientRect();
    const x = ((event.clientX - rect.left) / rect.width) * width;
    const y = ((event.clientY - rect.top) / rect.height) * height;
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    addPoint(Math.min(width - 1, x), Math.min(height - 1, y), null, "[data-colour]");
  });
  add.addEventListener("click", () => addPoint(width / 2, height / 2, null, "[data-x]"));
  form.addEventListener("submit", save);

  // After a refused submit the page comes back with the points sent: show them again.
  try {
    JSON.parse(field.value || "[]").forEach((p) => addPoint(p.x, p.y, p.colour, null));
  } catch (_error) {
    field.value = "";
  }
})();
