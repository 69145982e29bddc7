"""
What the tests share: helpers imported by test modules, never by each other.
Fixtures stay in the conftest.py files; everything else a second test
module needs lives here.

- booking: the clinic's clock and zone, bookings written straight to the
  database or made through the service, the public booking form filled in
  as a browser fills it, and the page it answers with.
- screening: health questionnaires made and published in a line.
- waitlist: people waiting on the waitlist.
- content: treatments, FAQs and skin concerns on top of the seeded content.
- caches: the cache backend that stands for Redis in the memory cache.
- html: pages read as a browser reads them (BeautifulSoup): elements,
  their text, what a form submits, JSON-LD and meta tags.
- pages: the public pages, and every page a visitor can see, for the checks
  that read all of them.
- mailbox: the one poller for a link in an email the site sends.
- fuzz: what the Hypothesis fuzz of the public forms sends, and how it runs.
- browser: Chromium, the viewports, axe-core and the Nu HTML Checker, and
  what the browser tests ask of a page.
- two_factor: codes an authenticator app would show (pyotp), and a staff
  member signed in past the second factor.
- tools: skip a test locally, or fail it in CI, when a program it needs is
  missing.
- production: the environment of the site's processes under the production
  settings.
- local_site: the site under gunicorn on the local settings, and a visitor
  who books through it.
- sqlite_site: a migrated SQLite database file, copied per test.
- shared: what a run makes once for all its pytest-xdist workers (the
  migrated SQLite template, collectstatic's output).
- migrations: a throwaway database of the run's kind, and a migration
  scenario run on it in a process of its own.
- races, race_runner, racers: races between separate processes on one
  database, started on a handshake.
"""
