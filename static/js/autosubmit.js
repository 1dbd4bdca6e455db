// A <select data-autosubmit> sends its form when changed (a year picker, say); without
// JavaScript the <noscript> button next to it does the same.
document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});
