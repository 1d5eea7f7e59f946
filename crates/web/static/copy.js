// Copy buttons: <button data-copy="ID"> copies the value of the element ID.
// (A file of its own: the pages allow no inline script.)
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-copy]");
  if (!b) return;
  var el = document.getElementById(b.getAttribute("data-copy"));
  if (!el) return;
  el.select();
  var done = function () { b.textContent = b.getAttribute("data-done") || "✔"; };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(el.value).then(done, function () { document.execCommand("copy"); done(); });
  } else {
    document.execCommand("copy");
    done();
  }
});
