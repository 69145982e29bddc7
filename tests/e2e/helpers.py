"""
What the browser tests ask of a page: axe-core's verdict, where keyboard
focus is and whether it shows, the size of tap targets, and the booking
form filled in as a visitor fills it. And the pages a visitor can see, for
the checks that read their markup.
"""

import re
import time

from django.core import mail
from django.urls import reverse

from booking.models import ConsultationBooking
from tests.e2e.conftest import AXE_SCRIPT, PUBLIC_PATHS
from tests.markup import form_data, parse_html

# axe-core's tags for the WCAG 2.0, 2.1 and 2.2 success criteria at levels
# A and AA (2.2 adds no level A rule to axe, so it has no wcag22a tag).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

VISITOR = {
    "full_name": "Ada Quinterra",
    "email": "ada.quinterra@example.com",
    "phone": "(212) 555-0147",
}


def axe_violations(page):
    """
    axe-core's WCAG A/AA violations on the page as it is now, one line each.
    The script is evaluated through the DevTools protocol, which the page's
    Content-Security-Policy does not govern, so the page is audited under
    its real policy.
    """
    if not page.evaluate("() => typeof axe === 'object'"):
        page.evaluate(AXE_SCRIPT.read_text())
    results = page.evaluate(
        """tags => axe.run(document, {
            runOnly: {type: 'tag', values: tags},
            resultTypes: ['violations'],
        })""",
        WCAG_TAGS,
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in results["violations"]
    ]


FOCUS_JS = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  return {
    description: element.tagName.toLowerCase()
      + (element.id ? '#' + element.id : '')
      + (element.name ? `[name=${element.name}]` : '')
      + (element.value && element.type === 'radio' ? `[value=${element.value}]` : '')
      + ' ' + (element.innerText || '').trim().slice(0, 40),
    id: element.id,
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
      && box.top < innerHeight && box.left < innerWidth,
  };
}"""


def focused(page):
    """The focused element, with whether its focus indicator shows; None on the body."""
    return page.evaluate(FOCUS_JS)


def tab_to(page, matches, *, limit=80, key="Tab"):
    """
    Press Tab until the focused element satisfies `matches(focus)`, checking
    at every stop that focus is on screen and drawn with a clear outline.
    """
    for _ in range(limit):
        page.keyboard.press(key)
        focus = focused(page)
        if focus is None:
            continue
        assert focus["onScreen"], f"focus went off screen, to {focus['description']}"
        assert focus["outline"], f"no visible focus outline on {focus['description']}"
        if matches(focus):
            return focus
    raise AssertionError(f"{limit} presses of {key} never reached the element")


def tab_to_id(page, element_id, **kwargs):
    return tab_to(page, lambda focus: focus["id"] == element_id, **kwargs)


PHONE_LAYOUT_JS = """() => {
  const root = document.documentElement;
  const targets = [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])'
  )].filter(element => {
    // Off-screen by design (the spam trap) or not rendered.
    if (element.closest('[aria-hidden=true]')) return false;
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && box.right > 0;
  });

  // A check box or radio button is operated through its label too, so its
  // target is the two together (WCAG 2.5.8's "target" is the region that
  // responds to the pointer).
  function area(element) {
    let box = element.getBoundingClientRect();
    let [left, top, right, bottom] = [box.left, box.top, box.right, box.bottom];
    if (element.labels && ['checkbox', 'radio'].includes(element.type)) {
      for (const label of element.labels) {
        const own = label.getBoundingClientRect();
        left = Math.min(left, own.left); top = Math.min(top, own.top);
        right = Math.max(right, own.right); bottom = Math.max(bottom, own.bottom);
      }
    }
    return {left, top, right, bottom, width: right - left, height: bottom - top};
  }

  // WCAG 2.5.8's inline exception: a link inside a sentence is sized by the
  // line of text around it.
  function inline(element) {
    if (element.tagName !== 'A' || getComputedStyle(element).display !== 'inline') return false;
    const own = element.textContent.trim().length;
    return element.parentElement.textContent.trim().length > own;
  }

  function describe(element, box) {
    const name = (element.innerText || element.value || element.getAttribute('aria-label') || '').trim();
    return `${element.tagName.toLowerCase()}${element.id ? '#' + element.id : ''} "${name.slice(0, 40)}" `
      + `${Math.round(box.width)}×${Math.round(box.height)}`;
  }

  const boxes = targets.map(element => ({element, box: area(element)}));
  const small = boxes.filter(({element, box}) =>
    !inline(element) && (box.width < 24 || box.height < 24));

  // The spacing exception: an undersized target passes when a 24 px circle
  // centred on it meets no other target (nor another such circle).
  function circleMeetsBox(cx, cy, box) {
    const x = Math.max(box.left, Math.min(cx, box.right));
    const y = Math.max(box.top, Math.min(cy, box.bottom));
    return (x - cx) ** 2 + (y - cy) ** 2 < 12 ** 2;
  }
  const failing = small.filter(({element, box}) => {
    const cx = (box.left + box.right) / 2, cy = (box.top + box.bottom) / 2;
    return boxes.some(other => {
      if (other.element === element || other.element.contains(element)
          || element.contains(other.element)) return false;
      if (circleMeetsBox(cx, cy, other.box)) return true;
      if (!small.includes(other)) return false;
      const ox = (other.box.left + other.box.right) / 2, oy = (other.box.top + other.box.bottom) / 2;
      return (ox - cx) ** 2 + (oy - cy) ** 2 < 24 ** 2;
    });
  });

  return {
    scrollWidth: root.scrollWidth,
    viewportWidth: root.clientWidth,
    targets: targets.length,
    smallTargets: failing.map(({element, box}) => describe(element, box)),
  };
}"""


def phone_layout(page):
    """Horizontal overflow and tap targets under 24×24 px (after WCAG 2.5.8's exceptions)."""
    return page.evaluate(PHONE_LAYOUT_JS)


def fill_booking_form(page, visitor=VISITOR, *, slot_index=0):
    """Fill in the open booking form as a visitor would, and send it. Returns the slot chosen."""
    slot = page.locator("input[name=slot]").nth(slot_index)
    value = slot.get_attribute("value")
    slot.check()
    page.get_by_label("Full name").fill(visitor["full_name"])
    page.get_by_label("Email address").fill(visitor["email"])
    page.get_by_label("Phone number").fill(visitor["phone"])
    page.get_by_label("I agree to the privacy policy").check()
    page.get_by_role("button", name="Request this consultation").click()
    return value


def reference_on(page):
    return page.locator(".booking-reference").inner_text().strip()


def manage_path_from_receipt(email_address, *, timeout=5.0):
    """
    The manage link's path from the receipt sent to `email_address`. The
    live server sends it after the booking commits, in its own thread.
    """
    deadline = time.monotonic() + timeout
    while True:
        for message in mail.outbox:
            if email_address in message.to:
                found = re.search(r"https?://[^/\s]+(/book/manage/[^\s]+/)", message.body)
                if found:
                    return found[1]
        if time.monotonic() > deadline:
            subjects = [(message.to, message.subject) for message in mail.outbox]
            raise AssertionError(f"no receipt with a manage link for {email_address}: {subjects}")
        time.sleep(0.05)


# A practitioner who does not hold the consultation chosen: the form explains
# instead of showing times.
MISMATCH = {"type": "medical-grade-facial-consultation", "practitioner": "maya-chen"}


def booked_pages(client):
    """The pages a visitor sees around a booking of their own, as (name, response) pairs."""
    form = parse_html(client.get("/book/").content).find("form", class_="booking-form")
    data = form_data(form)
    data |= VISITOR
    data["slot"] = form.find("input", name="slot").attrs["value"]
    data["consent"] = "on"
    received = client.post("/book/", data, follow=True)
    assert received.redirect_chain, "the booking was not accepted"
    booking = ConsultationBooking.objects.get(email=VISITOR["email"])
    manage_url = booking.get_manage_url()
    move_refused = client.post(manage_url, {"action": "move"})
    assert move_refused.status_code == 200
    return [
        ("booking-received", received),
        ("manage-booking", client.get(manage_url)),
        ("manage-booking-with-anyone", client.get(manage_url, {"with": "any"})),
        ("manage-booking-move-refused", move_refused),
    ]


def visitor_pages(client):
    """
    Every page a visitor can see, as (name, response) pairs: the public
    pages, the forms in their error states, the booking confirmation and
    the manage page, and the pages for a wrong address or link.
    """
    return [
        *[(path, client.get(path)) for path in PUBLIC_PATHS],
        ("booking-form-errors", client.post("/book/", {})),
        ("booking-form-mismatch", client.get("/book/", MISMATCH)),
        ("booking-form-show-times", client.post("/book/", {**MISMATCH, "show_times": "1"})),
        ("guide-errors", client.get("/guide/", {"sensitivity": "not-on-the-list"})),
        ("not-found", client.get("/no-such-page/")),
        ("manage-link-invalid", client.get(reverse("booking:manage", args=["not-a-link"]))),
        *booked_pages(client),
    ]
