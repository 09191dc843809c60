"""WTForms for the Configure pages, one module per config section (``site``, ``engagement``,
``tiers``, ``fields``, ``forms``, ``destinations``). Each form turns into one config entry
(DESIGN §5) and back; ``entries`` holds what they share, ``language`` the language select and
the per-string inputs of the site's and a form's editor.

WTForms checks what a single input can get wrong (required, a number, a range) and shows it next
to the input; the config importer then checks the entry as a whole and against the rest of the
site, and its problems are put next to the same inputs (see ``siteconfig.problems_for_entry``).
"""
