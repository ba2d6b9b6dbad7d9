// Category suggestions (templates/routing/_suggestions.html): a tap on a suggestion sets the category
// select of the form it sits in (or the select named by data-target), marks the chosen button and tells
// listeners with a "change" event. Delegated once per page, so fragments swapped in by htmx work too.
(function () {
  if (window.linjialinRoutingSuggest) return;
  window.linjialinRoutingSuggest = true;
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-category-code]");
    if (!button) return;
    var targetId = button.getAttribute("data-target");
    var select = targetId ? document.getElementById(targetId) : null;
    if (!select) {
      var form = button.closest("form") || document;
      select = form.querySelector("select[name='category']") || document.querySelector("select[name='category']");
    }
    if (!select) return;
    // the select's values are category ids (the forms) or codes (elsewhere): either matches
    var code = button.getAttribute("data-category-code");
    var id = button.getAttribute("data-category-id");
    var option = Array.prototype.find.call(select.options, function (o) {
      return o.value === id || o.value === code || o.getAttribute("data-code") === code;
    });
    if (!option) return;
    select.value = option.value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    var group = button.closest(".routing-suggestions");
    if (group) {
      group.querySelectorAll("[data-category-code]").forEach(function (b) {
        b.classList.toggle("active", b === button);
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
    }
  });
})();
