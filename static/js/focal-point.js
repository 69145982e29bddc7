// The Photograph change form's focal point picker (treatments/admin.py):
// a click on the whole photograph sets the "focal point across" and "down"
// fields, in per cent of its width and height, and a ring marks the point.
// The fields stay the form's values: typed into, they move the ring; without
// this script they are the whole picker. A static file loaded with defer
// (the admin runs under the site's CSP: no inline script); the ring is
// placed through custom properties set with style.setProperty (CSSOM, which
// the policy allows, unlike a style attribute in the page).
(function () {
  "use strict";

  function percentage(offset, size) {
    return Math.min(100, Math.max(0, Math.round((offset / size) * 100)));
  }

  function inRange(field) {
    var value = Number(field.value);
    return field.value !== "" && Number.isInteger(value) && value >= 0 && value <= 100;
  }

  function setUp(picker) {
    var across = document.getElementById(picker.dataset.xField);
    var down = document.getElementById(picker.dataset.yField);
    var image = picker.querySelector(".focal-point-image");
    var marker = picker.querySelector(".focal-point-marker");
    var status = picker.querySelector(".focal-point-status");
    if (!across || !down || !image || !marker) {
      return;
    }

    function showMarker() {
      var shown = inRange(across) && inRange(down);
      marker.hidden = !shown;
      if (shown) {
        picker.style.setProperty("--focal-x", Number(across.value) + "%");
        picker.style.setProperty("--focal-y", Number(down.value) + "%");
      }
    }

    image.addEventListener("click", function (event) {
      var box = image.getBoundingClientRect();
      across.value = percentage(event.clientX - box.left, box.width);
      down.value = percentage(event.clientY - box.top, box.height);
      [across, down].forEach(function (field) {
        field.dispatchEvent(new Event("change", { bubbles: true }));
      });
      showMarker();
      status.textContent =
        "Focal point set to " + across.value + "% across and " + down.value + "% down.";
    });
    across.addEventListener("input", showMarker);
    down.addEventListener("input", showMarker);

    // A new file chosen: pick on it, not on the photograph it will replace
    // (a data: URL, which the CSP's img-src allows).
    var file = document.getElementById(picker.dataset.fileField);
    if (file && window.FileReader) {
      file.addEventListener("change", function () {
        if (!file.files.length) {
          return;
        }
        var reader = new FileReader();
        reader.addEventListener("load", function () {
          image.src = reader.result;
        });
        reader.readAsDataURL(file.files[0]);
      });
    }

    picker.querySelector(".focal-point-instructions").hidden = false;
    showMarker();
  }

  document.querySelectorAll("[data-focal-point-picker]").forEach(setUp);
})();
