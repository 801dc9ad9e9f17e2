"""The demo county of Demoshire: teams, staff, children, providers, two financial years of
placements and costs, referrals in every state, panels and sourcing.

Run it with `python manage.py seed_demo`; the modules here hold the logic, one concept
each, and `demo.seed.seed_demo` puts them together.
"""
