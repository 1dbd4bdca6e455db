// Admin page of a housing round: while the draw runs, poll its progress and reload when done.
(function () {
  var bar = document.getElementById("draw-progress");
  if (!bar || bar.dataset.drawing !== "1") return;
  var percent = document.getElementById("draw-percent");
  function poll() {
    fetch(bar.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        bar.firstElementChild.style.width = data.progress + "%";
        bar.setAttribute("aria-valuenow", data.progress);
        percent.textContent = data.progress + "%";
        if (data.status !== "drawing") { window.location.reload(); } else { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
