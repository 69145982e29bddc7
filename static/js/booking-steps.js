// The booking page's steps with htmx (templates/booking/bookings/book.html):
// after a choice swaps the steps in place, focus moves to the step the choice
// opened (the link's #step-… fragment) and the live region announces it. A
// static file loaded with defer: the CSP allows no inline script, and htmx's
// hx-on attributes would need eval. Without JavaScript the same links load
// the page at that step.
(function () {
  "use strict";
  var opened = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var link = event.detail.elt;
    opened = link && link.hash ? link.hash.slice(1) : null;
  });

  document.addEventListener("htmx:afterSettle", function () {
    var heading = opened && document.getElementById(opened);
    var announcer = document.getElementById("booking-announcer");
    opened = null;
    if (!heading) {
      return;
    }
    heading.focus();
    if (announcer) {
      // Emptied first, so the same step chosen twice is announced again.
      announcer.textContent = "";
      window.setTimeout(function () {
        announcer.textContent = heading.textContent.replace(/\s+/g, " ").trim();
      }, 50);
    }
  });
})();
