"""The years every date must fit, in posts.yaml and on the command line alike: beyond them, adding
`late` or a zone offset overflows datetime, and a rule that never fires would be iterated up to 9999."""
FIRST_YEAR, LAST_YEAR = 1970, 2200
RANGE = f"the supported years are {FIRST_YEAR}–{LAST_YEAR}"
