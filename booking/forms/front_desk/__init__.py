"""
The front desk's forms in the admin, as its pages are split
(booking/views/front_desk/): book_and_move.py (booking a caller, moving a
booking), reports.py (the report's period), and times.py (a date and time
as staff type them, and a day's free times, which those share).
"""
