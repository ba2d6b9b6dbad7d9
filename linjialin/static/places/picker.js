// The household picker (templates/places/_household_picker.html): a tap on a result fills the hidden
// input and says what is chosen, without posting the form; Enter in the search box searches instead of
// submitting. Delegated once per page, so results swapped in by htmx work too.
(function () {
  if (window.linjialinPicker) return;
  window.linjialinPicker = true;
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-picker-pick]");
    if (!button) return;
    var picker = button.closest("[data-picker]");
    if (!picker) return;
    event.preventDefault();
    picker.querySelector("[data-picker-value]").value = button.value;
    var chosen = picker.querySelector("[data-picker-chosen]");
    chosen.textContent = chosen.getAttribute("data-chosen-prefix") + " ";
    var strong = document.createElement("strong");
    strong.textContent = button.getAttribute("data-label");
    chosen.appendChild(strong);
    picker.querySelectorAll("[data-picker-pick]").forEach(function (b) {
      b.classList.toggle("active", b === button);
      b.setAttribute("aria-pressed", b === button ? "true" : "false");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !event.target.matches("[data-picker] input[type=search]")) return;
    event.preventDefault();
    event.target.dispatchEvent(new Event("search", { bubbles: true }));
  });
})();
