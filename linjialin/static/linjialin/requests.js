// The description counter on the request forms (no inline scripts: strict CSP).
document.querySelectorAll("textarea[data-counter]").forEach(function (area) {
  var out = document.getElementById(area.dataset.counter);
  if (!out) return;
  var update = function () { out.textContent = area.value.length; };
  area.addEventListener("input", update);
  update();
});
