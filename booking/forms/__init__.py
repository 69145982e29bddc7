"""
booking's forms, by the same domains as the models and services: fields.py
(what the public forms share), bookings.py (the booking page and the
client's move), screening.py (the health questions), waitlist.py (joining
it), my_visits.py (signing in to My visits, a move from it), front_desk/
(the staff's forms in the admin) and schedule.py (a practitioner's working
hours in the admin). Forms validate; the services write.
"""
