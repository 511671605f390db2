// Password strength meter: a hint while typing. The server's policy decides; this only guides.
(function () {
  "use strict";
  function pool(value) {
    var size = 0;
    if (/[a-z]/.test(value)) size += 26;
    if (/[A-Z]/.test(value)) size += 26;
    if (/[0-9]/.test(value)) size += 10;
    if (/[^a-zA-Z0-9]/.test(value)) size += 33;
    return size || 1;
  }
  function score(value) {
    if (value.length < 12) return 0;
    var distinct = new Set(value).size;
    var bits = Math.min(value.length, distinct * 2) * Math.log2(pool(value));
    if (bits < 50) return 1;
    if (bits < 70) return 2;
    if (bits < 90) return 3;
    return 4;
  }
  var colours = ["#b3261e", "#d9822b", "#c9a227", "#5a9e3a", "#0b6e4f"];
  document.querySelectorAll("input[data-meter]").forEach(function (input) {
    var meter = document.getElementById(input.dataset.meter);
    if (!meter) return;
    var labels = JSON.parse(meter.dataset.labels);
    var bar = meter.querySelector("span");
    var text = meter.querySelector("output");
    meter.hidden = false;
    input.addEventListener("input", function () {
      var s = score(input.value);
      bar.style.width = ((s + 1) * 20) + "%";
      bar.style.background = colours[s];
      text.textContent = input.value ? labels[s] : "";
    });
  });
})();
