// Progressive enhancement: where the browser has a barcode detector, scan the ticket's QR
// code with the camera and submit it; typing the code always works.
(function () {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  var section = document.getElementById("scanner"); section.hidden = false;
  document.getElementById("scanner-start").addEventListener("click", function () {
    var video = document.getElementById("scanner-video");
    var detector = new window.BarcodeDetector({formats: ["qr_code"]});
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}}).then(function (stream) {
      video.srcObject = stream; video.play();
      var tick = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            stream.getTracks().forEach(function (t) { t.stop(); });
            document.getElementById("id_code").value = codes[0].rawValue;
            document.querySelector(".checkin-form").submit();
          } else { window.requestAnimationFrame(tick); }
        }).catch(function () { window.requestAnimationFrame(tick); });
      };
      tick();
    });
  });
})();
