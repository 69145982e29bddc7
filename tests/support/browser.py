"""
What the browser tests use: Debian's Chromium and the viewports they open
pages at, the npm tools pinned in package-lock.json (axe-core, the Nu HTML
Checker), and what they ask of a page: axe-core's verdict, where keyboard
focus is and whether it shows, the size of tap targets, and the booking
form filled in as a visitor fills it.
"""

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.support.booking import VISITOR
from tests.support.two_factor import code, wait_for_a_fresh_step

BASE_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NODE_MODULES = BASE_DIR / "node_modules"
AXE_SCRIPT = NODE_MODULES / "axe-core" / "axe.min.js"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
# A page with a known error: the Nu HTML Checker's report on it proves the
# checker read the files it was given.
VNU_CANARY = '<!doctype html><html lang="en"><title>Canary</title><p id="twice"><p id="twice">'

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# axe-core's tags for the WCAG 2.0, 2.1 and 2.2 success criteria at levels
# A and AA (2.2 adds no level A rule to axe, so it has no wcag22a tag).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


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
    classes: element.className,
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


def choose_time(page, slot_index=0):
    """
    From the booking page's steps, choose a time (step 4) and wait for the
    request form (step 5). A negative index first chooses the strip's last
    day: its times are far enough ahead for a client to change them online.
    Works with JavaScript on (htmx swaps the steps) and off (a new page).
    Returns the time as the form sends it.
    """
    if slot_index < 0:
        page.locator("a.day-strip-day").last.click()
        expect(page.locator("a.day-strip-day").last).to_have_attribute("aria-current", "date")
    link = page.locator("a.time-list-time").nth(slot_index)
    value = parse_qs(urlsplit(link.get_attribute("href")).query)["time"][0]
    link.click()
    page.locator(f"form#booking-request input[name=slot][value='{value}']").wait_for(
        state="attached"
    )
    return value


def fill_booking_form(page, visitor=VISITOR, *, slot_index=0):
    """Choose a time on the booking page, fill in the request as a visitor would, and send it. Returns the time chosen."""
    value = choose_time(page, slot_index)
    page.get_by_label("Full name").fill(visitor["full_name"])
    page.get_by_label("Email address").fill(visitor["email"])
    page.get_by_label("Phone number").fill(visitor["phone"])
    page.get_by_label("I agree to the privacy policy").check()
    page.get_by_role("button", name="Request this consultation").click()
    return value


def reference_on(page):
    return page.locator(".booking-reference").inner_text().strip()


STAFF_PASSWORD = "staff-password"


def sign_in_to_admin(page, username, password=STAFF_PASSWORD):
    """
    The admin's sign-in as staff go through it: the password, then, for an
    account with an authenticator app, the code the app shows now.
    """
    page.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    if "/two-factor/code/" in page.url:
        wait_for_a_fresh_step()
        app = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.get_by_label("Code from your authenticator app").fill(code(app))
        page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#site-name")).to_be_visible()
